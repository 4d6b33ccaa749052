using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Hosting;
using Warren.Core.Impact;
using Warren.Core.Vulns;
using Warren.Fetch.Direct.Egress;

namespace Warren.Server.Impact;

/// <summary>The JSON event POSTed to --alert-webhook: one advisory and the versions it affects that clients downloaded.</summary>
public sealed record AlertEvent(
    [property: JsonPropertyName("advisory")] AlertAdvisory Advisory,
    [property: JsonPropertyName("versions")] IReadOnlyList<AlertVersion> Versions);

/// <param name="Fixed">The fixed versions of the versions in the event (distinct, in order).</param>
public sealed record AlertAdvisory(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("fixed")] IReadOnlyList<string> Fixed);

/// <param name="Fixed">The smallest fixed version above this one, or null.</param>
public sealed record AlertVersion(
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("fixed")] string? Fixed,
    [property: JsonPropertyName("clients")] IReadOnlyList<AlertClient> Clients);

public sealed record AlertClient(
    [property: JsonPropertyName("client")] string Client,
    [property: JsonPropertyName("downloads")] long Downloads,
    [property: JsonPropertyName("lastDownload")] DateTimeOffset LastDownload);

/// <summary>Told of each refresh of the vulnerability database: queues, durably in the index, one alert per
/// (advisory, version) that a changed advisory affects among the versions downloaded within the retention window. An
/// alert that exists (pending, or sent: the sent marker) is not queued again, so a repeated refresh, another node or a
/// restart never adds one twice.</summary>
public sealed class AlertOutbox(IModuleIndex index, DownloadRecords records, AlertSender sender, TimeProvider time, ILogger<AlertOutbox> logger)
    : IAdvisoryRefreshObserver
{
    public async Task OnAdvisoriesChangedAsync(IReadOnlyList<Advisory> changed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changed);
        var live = changed.Where(a => a.Withdrawn is null && a.Affected.Count > 0).ToList();
        if (live.Count == 0)
        {
            return;
        }

        await records.FlushAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var downloaded = (await index.ReadDownloadsAsync(records.FirstKeptDay(now), null, cancellationToken).ConfigureAwait(false))
            .GroupBy(r => r.ModulePath, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Version).Distinct(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var alerts = new List<AlertEntry>();
        foreach (var advisory in live)
        {
            foreach (var module in advisory.Affected.Select(a => a.ModulePath).Distinct(StringComparer.Ordinal))
            {
                if (!downloaded.TryGetValue(module, out var versions))
                {
                    continue;
                }

                foreach (var version in versions.Where(v => advisory.Affects(module, v)))
                {
                    var body = JsonSerializer.Serialize(new QueuedAlert(ImpactQuery.Describe(advisory, module, version)), ImpactQuery.Json);
                    alerts.Add(new AlertEntry(advisory.Id, module, version, body, now, 0, now, null));
                }
            }
        }

        var added = await index.EnqueueAlertsAsync(alerts, cancellationToken).ConfigureAwait(false);
        if (added > 0)
        {
            Log.AlertsQueued(logger, added, live.Count);
            sender.Wake();
        }
    }
}

/// <summary>What the outbox keeps of an alert: the advisory as it was when the alert was queued.</summary>
internal sealed record QueuedAlert([property: JsonPropertyName("advisory")] ImpactAdvisory Advisory);

/// <summary>Sends the queued alerts: claims the due ones (so no other node sends them meanwhile), POSTs one event per
/// advisory with its versions and their clients, marks them sent on a 2xx answer, and on a failure (another status, a
/// connection error, a refusal by the egress policy) tries again after a delay that doubles from
/// <see cref="FirstRetry"/> up to <see cref="MaxRetry"/>. The event carries an Idempotency-Key header: a crash between a
/// delivery and its marker (the only case where an alert is sent twice) is recognisable by the receiver.</summary>
public sealed class AlertSender(IModuleIndex index, IHttpClientFactory clients, DownloadRecords records, AlertClaimer identity,
    IOptions<WarrenOptions> options, TimeProvider time, ILogger<AlertSender> logger) : BackgroundService
{
    /// <summary>The named HttpClient (egress policy on every connection).</summary>
    public const string ClientName = "warren-alert-webhook";

    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromHours(1);
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a claim keeps other nodes off an alert: longer than a delivery takes.</summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(2);

    /// <summary>How often the outbox is looked at without being woken (alerts queued by other nodes, retries).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    private const int ClaimBatch = 100;
    private readonly Uri _url = new(options.Value.AlertWebhook ?? "http://unset.invalid/");
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Looks at the outbox now.</summary>
    public void Wake() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>The delay before attempt n+1 after n failed attempts (n ≥ 1).</summary>
    public static TimeSpan Backoff(int failedAttempts)
    {
        var exponent = Math.Clamp(failedAttempts - 1, 0, 30);
        var delay = FirstRetry * Math.Pow(2, exponent);
        return delay > MaxRetry ? MaxRetry : delay;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.AlertWebhookOn(logger, ImpactSettings.Redact(_url));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _wake, wake);
                var next = PollInterval;
                try
                {
                    next = await SendDueAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.AlertLoopFailed(logger, ex);
                }

                using var delay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                await Task.WhenAny(wake.Task, Task.Delay(next, time, delay.Token)).ConfigureAwait(false);
                await delay.CancelAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sends what is due; returns how long to wait before looking again.</summary>
    public async Task<TimeSpan> SendDueAsync(CancellationToken cancellationToken)
    {
        var wait = PollInterval;
        while (true)
        {
            var now = time.GetUtcNow();
            var claimed = await index.ClaimAlertsAsync(identity.Claimer, now, ClaimLease, ClaimBatch, cancellationToken).ConfigureAwait(false);
            if (claimed.Count == 0)
            {
                // Nothing due: wake at the next attempt of what is pending (a retry, another node's claim that may
                // expire), or after the poll interval at the latest.
                if (await index.NextAlertAttemptAsync(cancellationToken).ConfigureAwait(false) is { } due)
                {
                    var until = due - time.GetUtcNow();
                    until = until < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : until;
                    wait = until < wait ? until : wait;
                }

                return wait;
            }

            foreach (var group in claimed.GroupBy(a => a.AdvisoryId, StringComparer.Ordinal))
            {
                var retryIn = await SendAsync(group.ToList(), cancellationToken).ConfigureAwait(false);
                if (retryIn is { } r && r < wait)
                {
                    wait = r;
                }
            }

            if (claimed.Count < ClaimBatch)
            {
                return wait;
            }
        }
    }

    /// <summary>POSTs one advisory's alerts; null when delivered, else the delay before the retry.</summary>
    private async Task<TimeSpan?> SendAsync(IReadOnlyList<AlertEntry> alerts, CancellationToken cancellationToken)
    {
        var keys = alerts.Select(a => (a.AdvisoryId, a.ModulePath, a.Version)).ToList();
        var body = await BuildEventAsync(alerts, cancellationToken).ConfigureAwait(false);
        var attempt = alerts.Max(a => a.Attempts) + 1;
        string reason;
        var refused = false;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", IdempotencyKey(keys));
            request.Headers.UserAgent.ParseAdd("warren-alert-webhook/1");
            using var timeout = new Warren.Core.Limits.Deadline(RequestTimeout, time, cancellationToken);
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                await index.CompleteAlertsAsync(keys, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                Log.AlertSent(logger, alerts[0].AdvisoryId, alerts.Count, ImpactSettings.Redact(_url), (int)response.StatusCode);
                return null;
            }

            reason = "HTTP " + ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException ex) when (EgressDeniedException.Find(ex) is { } refusal)
        {
            reason = refusal.Message;
            refused = true;
        }
        catch (HttpRequestException ex)
        {
            reason = "connection failed: " + OneLine(ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            reason = "no answer within " + RequestTimeout.TotalSeconds + " s";
        }

        var delay = Backoff(attempt);
        var next = time.GetUtcNow() + delay;
        await index.DeferAlertsAsync(keys, next, reason, CancellationToken.None).ConfigureAwait(false);
        if (refused)
        {
            Log.AlertRefusedByEgress(logger, ImpactSettings.Redact(_url), reason, next);
        }
        else
        {
            Log.AlertFailed(logger, alerts[0].AdvisoryId, ImpactSettings.Redact(_url), attempt, reason, next);
        }

        return delay;
    }

    /// <summary>The event: the advisory as queued, and each version with the clients that downloaded it within the
    /// retention window (as the index knows them now).</summary>
    private async Task<byte[]> BuildEventAsync(IReadOnlyList<AlertEntry> alerts, CancellationToken cancellationToken)
    {
        await records.FlushAsync(cancellationToken).ConfigureAwait(false);
        var since = records.FirstKeptDay(time.GetUtcNow());
        var versions = new List<AlertVersion>();
        ImpactAdvisory? advisory = null;
        foreach (var module in alerts.GroupBy(a => a.ModulePath, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var rows = await index.ReadDownloadsAsync(since, module.Key, cancellationToken).ConfigureAwait(false);
            foreach (var alert in module.OrderBy(a => a.Version, ImpactQuery.SemVerOrder))
            {
                var queued = JsonSerializer.Deserialize<QueuedAlert>(alert.Advisory, ImpactQuery.Json)?.Advisory;
                advisory ??= queued;
                var clients = ImpactQuery.Clients(rows.Where(r => r.Version == alert.Version))
                    .Select(c => new AlertClient(c.Client, c.Downloads, c.LastDownload)).ToList();
                versions.Add(new AlertVersion(alert.ModulePath, alert.Version, queued?.Fixed, clients));
            }
        }

        var head = advisory ?? new ImpactAdvisory(alerts[0].AdvisoryId, [], "", null);
        var fixedVersions = versions.Select(v => v.Fixed).OfType<string>().Distinct(StringComparer.Ordinal).Order(ImpactQuery.SemVerOrder).ToList();
        var evt = new AlertEvent(new AlertAdvisory(head.Id, head.Aliases, head.Summary, fixedVersions), versions);
        return JsonSerializer.SerializeToUtf8Bytes(evt, ImpactQuery.Json);
    }

    /// <summary>The same for the same (advisory, versions) whatever the attempt.</summary>
    public static string IdempotencyKey(IEnumerable<(string AdvisoryId, string ModulePath, string Version)> keys)
    {
        var text = string.Join('\n', keys.Select(k => k.AdvisoryId + " " + k.ModulePath + "@" + k.Version).Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}

/// <summary>Who claims alerts from the outbox: this node's name and this process's identity.</summary>
public sealed class AlertClaimer(IOptions<WarrenOptions> options, Upstream.InstanceIdentity identity)
{
    public string Claimer { get; } = ImpactSettings.NodeName(options.Value) + "/" + identity.Id;
}

using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Warren.Server.Endpoints;
using Warren.Server.Ingest;

namespace Warren.Server.Mirror;

/// <summary>Where following a feed stands, for /readyz: the feed (redacted), the saved position, how many seconds the
/// position is behind the feed's newest version, the last error (of the feed or of a version) and how many versions
/// failed in the last pass (they are tried again in the next).</summary>
public sealed record FeedStatus(string Feed, string? Cursor, double LagSeconds, string? LastError, int FailedVersions, DateTimeOffset? LastPass);

/// <summary>What one pass over a feed did.</summary>
public sealed record FollowResult(int Fetched, int Present, int Skipped, int Failed, long Bytes, string? Cursor);

/// <summary>Follows an index feed (another Warren's /index, or index.golang.org's): every version it lists that matches
/// the patterns is fetched through this node's own upstream chain and checks before anyone asks for it. The position
/// is a durable cursor in the index, moved only past versions that are done (stored, already there, not matching,
/// or failed after retries), so a node killed at any instant resumes where it stopped and fetches nothing twice that
/// was stored. Fetches are bounded in number and in bytes per second, so following never starves clients.</summary>
public sealed class FeedFollower(ModuleService modules, IArtifactStore store, IModuleIndex index, IHttpClientFactory httpClients, WarrenMetrics metrics,
    TimeProvider time, Microsoft.Extensions.Options.IOptions<WarrenOptions> options, ILogger<FeedFollower> logger) : BackgroundService
{
    /// <summary>The name of the feed client in the <see cref="IHttpClientFactory"/>.</summary>
    public const string ClientName = "warren-follow";

    private const int PageSize = IndexFeed.MaxLimit;
    private const int Attempts = 3;
    private static readonly TimeSpan FeedTimeout = TimeSpan.FromMinutes(2);

    private readonly WarrenOptions _options = options.Value;
    private readonly GlobList _patterns = GlobList.Parse(options.Value.FollowPatterns);
    private readonly long? _rate = SizeSetting.Parse(options.Value.FollowRate).Bytes;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, FeedStatus> _status = new(StringComparer.Ordinal);

    /// <summary>Where following each feed this process follows (or synced) stands.</summary>
    public IReadOnlyList<FeedStatus> Status => _status.Values.OrderBy(s => s.Feed, StringComparer.Ordinal).ToList();

    private void Report(string feed, Func<FeedStatus, FeedStatus> change)
    {
        var shown = Fetch.Direct.Git.SecretRedactor.RedactText(feed);
        _status.AddOrUpdate(shown, (key, c) => c(new FeedStatus(key, null, 0, null, 0, null)), (_, old, c) => c(old), change);
    }

    private void Lag(string feed, TimeSpan lag)
    {
        metrics.FollowLag(lag);
        Report(feed, s => s with { LagSeconds = Math.Max(0, Math.Round(lag.TotalSeconds, 3)) });
    }

    /// <summary>index.golang.org and its kind: a feed of the whole public ecosystem.</summary>
    public static bool IsPublicFeed(Uri feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        return feed.Host.Equals("index.golang.org", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The cursor's name in the index: one per feed.</summary>
    public static string CursorName(string feed) => "follow:" + Fetch.Direct.Git.SecretRedactor.RedactText(feed);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Follow is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.FollowInterval, time);
        do
        {
            try
            {
                await RunOnceAsync(_options.Follow, null, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or InvalidDataException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                Log.FollowFailed(logger, Fetch.Direct.Git.SecretRedactor.RedactText(_options.Follow), ex.Message, _options.FollowInterval);
                Report(_options.Follow, s => s with { LastError = Fetch.Direct.Git.SecretRedactor.RedactText(ex.Message) });
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One pass: from the saved cursor to the feed's end. progress gets (versions done, versions seen).</summary>
    public async Task<FollowResult> RunOnceAsync(string feed, Action<int, int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        var name = CursorName(feed);
        var cursor = await index.GetCursorAsync(name, cancellationToken).ConfigureAwait(false);
        var after = cursor is not null && IndexFeed.TryParseTime(cursor, out var saved) ? saved : (DateTimeOffset?)null;
        Report(feed, s => s with { Cursor = cursor });
        var counts = new int[4];
        long bytes = 0;
        var seen = 0;
        var done = 0;
        var throttle = new Throttle(_rate, time);
        var failures = new Lock();
        DateTimeOffset? firstFailure = null;
        using var http = httpClients.CreateClient(ClientName);

        // At the feed's end the node is behind by its oldest version that failed (the cursor waits before it), else not.
        TimeSpan Behind()
        {
            lock (failures)
            {
                return firstFailure is { } f ? time.GetUtcNow() - f : TimeSpan.Zero;
            }
        }

        while (true)
        {
            var page = await ReadPageAsync(http, feed, after ?? DateTimeOffset.UnixEpoch, time, cancellationToken).ConfigureAwait(false);
            var fresh = after is { } a ? page.Where(e => e.Timestamp > a).ToList() : page;
            if (fresh.Count == 0)
            {
                Lag(feed, Behind());
                break;
            }

            seen += fresh.Count;
            Lag(feed, time.GetUtcNow() - fresh[0].Timestamp);
            await Parallel.ForEachAsync(fresh, new ParallelOptions { MaxDegreeOfParallelism = _options.FollowConcurrency, CancellationToken = cancellationToken }, async (entry, ct) =>
            {
                var (outcome, size) = await FollowAsync(feed, entry, throttle, ct).ConfigureAwait(false);
                if (outcome == Outcome.Failed)
                {
                    lock (failures)
                    {
                        firstFailure = firstFailure is { } f && f < entry.Timestamp ? f : entry.Timestamp;
                    }
                }

                Interlocked.Increment(ref counts[(int)outcome]);
                Interlocked.Add(ref bytes, size);
                metrics.Followed(outcome.ToString().ToLowerInvariant());
                progress?.Invoke(Interlocked.Increment(ref done), seen);
            }).ConfigureAwait(false);

            // Every version of the page is done: the position moves past it, durably; but never past a version that
            // failed, so the next pass tries it again (the versions after it are passed over cheaply: stored ones are
            // found in the store, not fetched).
            after = fresh[^1].Timestamp;
            cursor = IndexFeed.FormatTime(firstFailure is { } failed ? failed.AddTicks(-10) : after.Value);
            await index.SetCursorAsync(name, cursor, cancellationToken).ConfigureAwait(false);
            Report(feed, s => s with { Cursor = cursor });
            if (page.Count < PageSize)
            {
                Lag(feed, Behind());
                break;
            }
        }

        var result = new FollowResult(counts[(int)Outcome.Fetched], counts[(int)Outcome.Present], counts[(int)Outcome.Skipped], counts[(int)Outcome.Failed], bytes, cursor);
        Report(feed, s => s with { FailedVersions = result.Failed, LastError = result.Failed > 0 ? s.LastError : null, LastPass = time.GetUtcNow() });
        Log.FollowPass(logger, Fetch.Direct.Git.SecretRedactor.RedactText(feed), result.Fetched, result.Present, result.Skipped, result.Failed, result.Bytes, cursor ?? "-");
        return result;
    }

    private enum Outcome
    {
        Fetched,
        Present,
        Skipped,
        Failed,
    }

    /// <summary>One version: skipped unless it matches, left alone when its zip is stored, else its .info, .mod and
    /// .zip ingested (fetched, checked, verified, stored), retried with backoff.</summary>
    private async Task<(Outcome Outcome, long Bytes)> FollowAsync(string feed, FeedEntry entry, Throttle throttle, CancellationToken cancellationToken)
    {
        if ((!_patterns.IsEmpty && !_patterns.Matches(entry.ModulePath)) || ModuleVersion.Check(entry.ModulePath, entry.Version) is not null)
        {
            return (Outcome.Skipped, 0);
        }

        if (await store.ExistsAsync(StoreLayout.ArtifactKey(entry.ModulePath, entry.Version, ArtifactKind.Zip), cancellationToken).ConfigureAwait(false))
        {
            return (Outcome.Present, 0);
        }

        string? reason = null;
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            reason = null;
            long size = 0;
            foreach (var kind in new[] { ArtifactKind.Info, ArtifactKind.Mod, ArtifactKind.Zip })
            {
                var served = await modules.GetArtifactAsync(entry.ModulePath, entry.Version, kind, cancellationToken).ConfigureAwait(false);
                switch (served)
                {
                    case Ingest.Outcome failure:
                        reason = failure.Message;
                        break;
                    case ArtifactAnswer { Artifact: var stored }:
                        size += stored.Length;
                        break;
                    case OpenArtifactAnswer { File: var open }:
                        size += open.Length;
                        break;
                    case MemoryArtifactAnswer { Artifact: var cached }:
                        size += cached.Body.Length;
                        break;
                }

                if (reason is not null)
                {
                    break;
                }
            }

            if (reason is null)
            {
                await throttle.TakeAsync(size, cancellationToken).ConfigureAwait(false);
                return (Outcome.Fetched, size);
            }

            if (attempt < Attempts)
            {
                await Task.Delay(TimeSpan.FromSeconds(1 << (attempt - 1)), time, cancellationToken).ConfigureAwait(false);
            }
        }

        Log.FollowVersionFailed(logger, Fetch.Direct.Git.SecretRedactor.RedactText(feed), entry.ModulePath, entry.Version, Attempts, reason ?? "");
        Report(feed, s => s with { LastError = $"{entry.ModulePath}@{entry.Version}: {reason}" });
        return (Outcome.Failed, 0);
    }

    /// <summary>One page of the feed from since (inclusive).</summary>
    private static async Task<List<FeedEntry>> ReadPageAsync(HttpClient http, string feed, DateTimeOffset since, TimeProvider time, CancellationToken cancellationToken)
    {
        var separator = feed.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        var url = $"{feed}{separator}since={Uri.EscapeDataString(IndexFeed.FormatTime(since))}&limit={PageSize}";
        using var timeout = new Warren.Core.Limits.Deadline(FeedTimeout, time, cancellationToken);
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the feed answered {(int)response.StatusCode}");
        }

        var entries = new List<FeedEntry>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false));
        while (await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line.Length > 4096)
            {
                throw new InvalidDataException("the feed sent a line over 4 KiB");
            }

            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.TryGetProperty("Path", out var path) && path.GetString() is { } p &&
                root.TryGetProperty("Version", out var version) && version.GetString() is { } v &&
                root.TryGetProperty("Timestamp", out var ts) && IndexFeed.TryParseTime(ts.GetString(), out var timestamp))
            {
                entries.Add(new FeedEntry(p, v, timestamp));
            }
            else
            {
                throw new InvalidDataException("the feed sent a line without Path, Version and Timestamp");
            }

            if (entries.Count > PageSize)
            {
                throw new InvalidDataException($"the feed sent more than the {PageSize} lines asked for");
            }
        }

        entries.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        return entries;
    }

    /// <summary>Keeps the bytes fetched per second under a rate, over the whole pass.</summary>
    private sealed class Throttle(long? rate, TimeProvider time)
    {
        private readonly long _start = time.GetTimestamp();
        private long _taken;

        public async Task TakeAsync(long bytes, CancellationToken cancellationToken)
        {
            if (rate is not { } perSecond || perSecond <= 0)
            {
                return;
            }

            var total = Interlocked.Add(ref _taken, bytes);
            var due = TimeSpan.FromSeconds((double)total / perSecond) - time.GetElapsedTime(_start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

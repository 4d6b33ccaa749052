using Warren.Core.Limits;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Warren.Server.Auth;
using Warren.Server.Endpoints;

namespace Warren.Server.Impact;

/// <summary>Counts zip downloads in memory, per (module, version, client, UTC day), for <see cref="DownloadRecords"/>
/// to add to the index in batches. At most <see cref="MaxPending"/> counts wait; further ones are dropped (and counted)
/// until the next flush.</summary>
public sealed class DownloadTracker(TimeProvider time)
{
    /// <summary>The most (module, version, client, day) counts waiting in memory between two flushes.</summary>
    public const int MaxPending = 50_000;

    private readonly PendingCounts<(string Module, string Version, string Client, DateOnly Day)> _pending = new(MaxPending);
    private long _dropped;

    /// <summary>Counts dropped since the last call to <see cref="TakeDropped"/>.</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    /// <summary>A client downloaded module@version's zip now.</summary>
    public void Record(string modulePath, string version, string client)
    {
        var now = time.GetUtcNow();
        if (!_pending.Add((modulePath, version, client, DateOnly.FromDateTime(now.UtcDateTime)), 1, now.UtcTicks))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>The counts gathered since the last call, as this node's.</summary>
    public IReadOnlyCollection<DownloadCount> TakeBatch(string node)
    {
        return _pending.TakeAll().Select(e => new DownloadCount(e.Key.Module, e.Key.Version, e.Key.Client, node, e.Key.Day,
            e.Count, new DateTimeOffset(e.LastTicks, TimeSpan.Zero))).ToList();
    }
}

/// <summary>Writes the download counts gathered in memory to the index every <see cref="WarrenOptions.UsageFlushInterval"/>
/// and at shutdown, and deletes those older than <see cref="WarrenOptions.DownloadRetention"/> at start and every
/// <see cref="WarrenOptions.MaintenanceInterval"/>.</summary>
public sealed class DownloadRecords(IModuleIndex index, DownloadTracker tracker, IOptions<WarrenOptions> options, TimeProvider time, ILogger<DownloadRecords> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly WarrenOptions _options = options.Value;

    /// <summary>This node's name in the records.</summary>
    public string Node { get; } = ImpactSettings.NodeName(options.Value);

    /// <summary>The first day kept at now.</summary>
    public DateOnly FirstKeptDay(DateTimeOffset now) => DateOnly.FromDateTime((now - _options.DownloadRetentionPeriod).UtcDateTime);

    /// <summary>Adds the counts gathered so far to the index.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var batch = tracker.TakeBatch(Node);
            if (batch.Count > 0)
            {
                await index.RecordDownloadsAsync(batch, cancellationToken).ConfigureAwait(false);
                Log.DownloadsFlushed(logger, batch.Count);
            }

            if (tracker.TakeDropped() is > 0 and var dropped)
            {
                Log.DownloadsDropped(logger, dropped, DownloadTracker.MaxPending);
            }
        }
        finally
        {
            _flushGate.Release();
        }
    }

    /// <summary>Deletes the counts of days before the retention window; returns how many went.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var before = FirstKeptDay(time.GetUtcNow());
        var pruned = await index.PruneDownloadsAsync(before, cancellationToken).ConfigureAwait(false);
        if (pruned > 0)
        {
            Log.DownloadsPruned(logger, pruned, before, Core.Limits.DurationText.Format(_options.DownloadRetentionPeriod));
        }

        return pruned;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(EveryAsync(_options.UsageFlushInterval, FlushAsync, runFirst: false, stoppingToken),
            EveryAsync(_options.MaintenanceInterval, PruneAsync, runFirst: true, stoppingToken)).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // What was counted since the last flush is not lost at shutdown.
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.DownloadRecordsFailed(logger, ex);
        }
    }

    private async Task EveryAsync(TimeSpan interval, Func<CancellationToken, Task> work, bool runFirst, CancellationToken stoppingToken)
    {
        try
        {
            if (runFirst)
            {
                await RunSafelyAsync(work, stoppingToken).ConfigureAwait(false);
            }

            using var timer = new PeriodicTimer(interval, time);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunSafelyAsync(work, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunSafelyAsync(Func<CancellationToken, Task> work, CancellationToken stoppingToken)
    {
        try
        {
            await work(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.DownloadRecordsFailed(logger, ex);
        }
    }

    public override void Dispose()
    {
        _flushGate.Dispose();
        base.Dispose();
    }
}

/// <summary>Counts each zip download served. A download is a GET of a version's .zip answered 200, 206 for a range
/// that starts at byte 0 (the first piece of a resumable download: later pieces are the same download), or a redirect
/// to where the zip is (--s3-redirect, redirect download modes). HEAD, 304 and errors are not downloads. The client is
/// the token's name, or "anonymous".</summary>
public static class DownloadRecording
{
    public static IApplicationBuilder UseDownloadRecording(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var tracker = app.ApplicationServices.GetRequiredService<DownloadTracker>();
        return app.Use(async (context, next) =>
        {
            await next(context).ConfigureAwait(false);
            if (IsDownload(context) && RequestOf(context) is { Route: ProxyRoute.Zip, Version: { } version } request)
            {
                var client = context.Items.TryGetValue(AccessControl.PrincipalItem, out var p) && p is string name ? name : AuthFile.AnonymousName;
                tracker.Record(request.ModulePath, version, client);
            }
        });
    }

    /// <summary>Whether the answer was a zip download (see the class).</summary>
    internal static bool IsDownload(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) || !(context.Items.TryGetValue(ProxyEndpoints.RouteItem, out var route) && route is "zip") ||
            context.Items.ContainsKey(LiveZipResult.CutItem))
        {
            return false;
        }

        return context.Response.StatusCode switch
        {
            StatusCodes.Status200OK => true,
            StatusCodes.Status206PartialContent => RangeStartsAtZero(context.Request.Headers.Range.ToString()),
            StatusCodes.Status302Found or StatusCodes.Status307TemporaryRedirect or StatusCodes.Status303SeeOther => true,
            _ => false,
        };
    }

    private static bool RangeStartsAtZero(string range) =>
        range.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) && range.AsSpan("bytes=".Length).TrimStart().StartsWith("0-", StringComparison.Ordinal);

    private static ProxyRequest? RequestOf(HttpContext context) =>
        context.Items.TryGetValue(AccessControl.RequestItem, out var parsed) && parsed is ProxyRequest known
            ? known
            : ProxyRequestParser.Parse(context.Request.Path.Value ?? "/", out _);
}

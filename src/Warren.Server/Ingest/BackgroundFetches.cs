using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace Warren.Server.Ingest;

/// <summary>Which fetched .info files lead to a background fetch of the version's .mod and .zip (<see cref="WarrenOptions.Prefetch"/>).</summary>
public enum PrefetchMode
{
    /// <summary>None.</summary>
    Off,

    /// <summary>Those direct mode made (from the local mirror: no upstream bandwidth).</summary>
    Direct,

    /// <summary>Those of every source.</summary>
    All,
}

/// <summary>What became of a request to fetch a version in the background.</summary>
public enum BackgroundQueueing
{
    /// <summary>Queued: a worker will fetch it.</summary>
    Queued,

    /// <summary>Already queued or being fetched: nothing more to do.</summary>
    Coalesced,

    /// <summary>The queue is full: dropped (a later request queues it again).</summary>
    Dropped,
}

/// <summary>The versions waiting for a background fetch: a bounded queue in which a version appears at most once until its
/// fetch ends. The async download modes queue what they answered without fetching; ingestion queues the .mod and .zip
/// of a version whose .info it just fetched (see <see cref="WarrenOptions.Prefetch"/>). It depends on nothing that
/// fetches, so the ingestion path can queue without a cycle; <see cref="BackgroundFetches"/> works it.</summary>
public sealed class BackgroundFetchQueue
{
    /// <summary>Versions waiting at most; beyond, requests are dropped (counted and logged) until workers catch up.</summary>
    public const int Capacity = 1024;

    private readonly ILogger<BackgroundFetchQueue> _logger;
    private readonly Channel<(string ModulePath, string Version)> _queue =
        Channel.CreateBounded<(string, string)>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait });
    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);
    private readonly Counter _queued;

    public BackgroundFetchQueue(IOptions<WarrenOptions> options, WarrenMetrics metrics, ILogger<BackgroundFetchQueue> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _logger = logger;
        Prefetch = options.Value.PrefetchMode ?? PrefetchMode.Off;
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        _queued = factory.CreateCounter("warren_background_fetch_requests_total",
            "Requests for a background fetch (async download modes, prefetch), by result: queued, coalesced (already queued or running), dropped (queue full).", ["result"]);
        metrics.Gauge("warren_background_fetches_pending", "Versions queued or being fetched in the background.", () => _pending.Count);
    }

    /// <summary>Which fetched .info files lead to a background fetch of the version's .mod and .zip.</summary>
    public PrefetchMode Prefetch { get; }

    /// <summary>Whether an .info fetched from source leads to a background fetch of the version's .mod and .zip.</summary>
    public bool Prefetches(string source) => Prefetch == PrefetchMode.All || (Prefetch == PrefetchMode.Direct && source == Upstream.DirectSource.SourceName);

    /// <summary>Versions queued or being fetched.</summary>
    public int Pending => _pending.Count;

    internal ChannelReader<(string ModulePath, string Version)> Reader => _queue.Reader;

    /// <summary>Queues a version unless it is already queued or being fetched; never waits.</summary>
    public BackgroundQueueing Enqueue(string modulePath, string version)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);
        var key = modulePath + "@" + version;
        BackgroundQueueing result;
        if (!_pending.TryAdd(key, 0))
        {
            result = BackgroundQueueing.Coalesced;
        }
        else if (_queue.Writer.TryWrite((modulePath, version)))
        {
            result = BackgroundQueueing.Queued;
        }
        else
        {
            _pending.TryRemove(key, out _);
            Log.BackgroundFetchDropped(_logger, modulePath, version, Capacity);
            result = BackgroundQueueing.Dropped;
        }

        _queued.WithLabels(result.ToString().ToLowerInvariant()).Inc();
        return result;
    }

    /// <summary>The fetch of a version ended: it may be queued again.</summary>
    internal void Done(string modulePath, string version) => _pending.TryRemove(modulePath + "@" + version, out _);
}

/// <summary>Works the <see cref="BackgroundFetchQueue"/> with a few workers, each version's .info, .mod and .zip going
/// through <see cref="ModuleService"/> (so through the same single flight, checks, verification and atomic commit as a
/// client's request, and joining one already under way).</summary>
public sealed class BackgroundFetches : BackgroundService
{
    /// <summary>Versions fetched at once in the background.</summary>
    public const int Workers = 4;

    private static readonly ArtifactKind[] Kinds = [ArtifactKind.Info, ArtifactKind.Mod, ArtifactKind.Zip];

    private readonly BackgroundFetchQueue _queue;
    private readonly ModuleService _modules;
    private readonly DownloadModePolicy _policy;
    private readonly ILogger<BackgroundFetches> _logger;
    private readonly Counter _done;

    public BackgroundFetches(BackgroundFetchQueue queue, ModuleService modules, DownloadModePolicy policy, WarrenMetrics metrics, ILogger<BackgroundFetches> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _queue = queue;
        _modules = modules;
        _policy = policy;
        _logger = logger;
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        _done = factory.CreateCounter("warren_background_fetches_total", "Background fetches (async download modes, prefetch) finished, by outcome: stored, failed.", ["outcome"]);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_policy.IsConfigured)
        {
            Log.DownloadModes(_logger, _policy.Describe(), _policy.RedirectBase?.AbsoluteUri ?? "nowhere (no http(s) proxy upstream)");
        }

        return Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => WorkAsync(stoppingToken)));
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (modulePath, version) in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await FetchAsync(modulePath, version, stoppingToken).ConfigureAwait(false);
                }
                finally
                {
                    _queue.Done(modulePath, version);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: what is queued is fetched again when a client next asks.
        }
    }

    /// <summary>The version's .info, .mod and .zip, stopping at the first that fails.</summary>
    private async Task FetchAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        string? failure;
        try
        {
            failure = null;
            foreach (var kind in Kinds)
            {
                if (await _modules.GetArtifactAsync(modulePath, version, kind, cancellationToken).ConfigureAwait(false) is Outcome outcome)
                {
                    failure = $"{ModuleIngestor.Label(kind)}: {outcome.Message}";
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            failure = $"{ex.GetType().Name}: {Upstream.HttpDownloader.OneLine(ex)}";
        }

        if (failure is null)
        {
            _done.WithLabels("stored").Inc();
            Log.BackgroundFetchStored(_logger, modulePath, version);
        }
        else
        {
            _done.WithLabels("failed").Inc();
            Log.BackgroundFetchFailed(_logger, modulePath, version, failure);
        }
    }
}

using Warren.Server;
using Warren.Server.Configuration;
using Warren.Server.Auth;
using Warren.Server.Ingest;
using Warren.Server.Mirror;
using Warren.Server.Observability;
using Warren.Server.Upstream;
using Warren.Storage;

namespace Warren.WebConsole.Data;

/// <summary>What the overview shows; the same at /api/overview.</summary>
public sealed record OverviewModel(
    DateTimeOffset At,
    IndexStats? Index,
    string? IndexError,
    string IndexLocation,
    IReadOnlyList<MinuteSample> LastHour,
    IReadOnlyList<UpstreamHealth> Upstreams,
    IReadOnlyList<FeedStatus> Feeds,
    ClusterInfo Cluster,
    IReadOnlyList<RecentError> Errors)
{
    public long RequestsLastHour => LastHour.Sum(m => m.Requests);

    public long HitsLastHour => LastHour.Sum(m => m.Hits);

    public long MissesLastHour => LastHour.Sum(m => m.Misses);

    /// <summary>Store hits over hits and misses of the last hour, or null when nothing was served.</summary>
    public double? HitRatio => HitsLastHour + MissesLastHour is var n and > 0 ? (double)HitsLastHour / n : null;
}

/// <summary>An upstream proxy and its breaker: closed (healthy), open (passed over) or half-open (being probed).</summary>
public sealed record UpstreamHealth(string Upstream, string State, int ConsecutiveFailures, string? LastError, DateTimeOffset? OpenedAt, DateTimeOffset? NextProbe);

/// <summary>This node, and whether it shares its index and store with others.</summary>
public sealed record ClusterInfo(string Node, bool Shared, string Store);

/// <summary>Gathers the overview. Index counts are cached a few seconds (one value): the overview refreshes itself and
/// may be open in many browsers. Counting a large index takes a while (every artifact's size is summed), so counts up to
/// <see cref="StaleFor"/> old are answered at once while one refresh runs in the background; only a first request, one
/// after <see cref="Invalidate"/> or after a failed refresh, waits for the count.</summary>
public sealed class OverviewData(IModuleIndex index, UpstreamChain upstreams, FeedFollower follower, ClusterFlights cluster, WarrenMetrics metrics,
    RecentErrors errors, IOptions<WarrenOptions> options, TimeProvider time)
{
    private static readonly TimeSpan StatsFreshFor = TimeSpan.FromSeconds(5);

    /// <summary>How old cached counts may be and still be shown while newer ones are counted.</summary>
    public static readonly TimeSpan StaleFor = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private (DateTimeOffset At, IndexStats Stats)? _stats;
    private (int Generation, Task<IndexStats> Task)? _refresh;
    private int _generation;

    /// <summary>Most errors shown.</summary>
    public const int MaxErrors = 20;

    public async Task<OverviewModel> GetAsync(ConsoleViewer viewer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        var now = time.GetUtcNow();
        IndexStats? stats = null;
        string? indexError = null;
        try
        {
            stats = await StatsAsync(now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException or TimeoutException)
        {
            indexError = "the module index does not answer: " + e.Message.Split('\n')[0];
        }

        var o = options.Value;
        var health = upstreams.Breakers.Select(b => b.Snapshot())
            .Select(s => new UpstreamHealth(Fetch.Direct.Git.SecretRedactor.RedactText(s.Upstream), s.State.ToString().ToLowerInvariant(), s.ConsecutiveFailures,
                s.LastError, s.OpenedAt, s.NextProbe))
            .ToList();
        var shown = errors.Latest(RecentErrors.Capacity)
            .Where(e => e.ModulePath is null || viewer.CanRead(e.ModulePath))
            .Take(MaxErrors)
            .ToList();
        // A file index is named by kind, not by its path on the server.
        var location = Path.IsPathRooted(index.Location) ? "SQLite (" + Path.GetFileName(index.Location) + " in the store root)" : index.Location;
        return new OverviewModel(now, stats, indexError, location, metrics.Recent.LastHour(), health, follower.Status,
            new ClusterInfo(o.NodeName ?? Environment.MachineName, cluster.IsShared, string.IsNullOrEmpty(o.Store) ? "files under the root" : Fetch.Direct.Git.SecretRedactor.RedactText(o.Store)),
            shown);
    }

    private async Task<IndexStats> StatsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        Task<IndexStats> refresh;
        (DateTimeOffset At, IndexStats Stats)? cached;
        lock (_gate)
        {
            cached = _stats;
            if (cached is { } fresh && now - fresh.At < StatsFreshFor)
            {
                return fresh.Stats;
            }

            // One count at a time, of the current generation; after a failed one, the next request counts again.
            var failed = _refresh is { Task.IsFaulted: true } or { Task.IsCanceled: true };
            if (_refresh is { } running && running.Generation == _generation && !running.Task.IsCompleted)
            {
                refresh = running.Task;
            }
            else
            {
                var generation = _generation;
                refresh = Task.Run(() => CountAsync(generation), CancellationToken.None);
                _refresh = (_generation, refresh);
            }

            if (!failed && cached is { } stale && now - stale.At < StaleFor)
            {
                return stale.Stats;
            }
        }

        return await refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<IndexStats> CountAsync(int generation)
    {
        // Not the request's token: the count outlives a request that is answered with the stale counts.
        var stats = await index.GetStatsAsync(CancellationToken.None).ConfigureAwait(false);
        lock (_gate)
        {
            if (generation == _generation)
            {
                _stats = (time.GetUtcNow(), stats);
            }
        }

        return stats;
    }

    /// <summary>Forgets the cached counts (tests, and after a change the viewer made).</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _stats = null;
            _generation++;
        }
    }
}

using System.Globalization;
using Warren.Server;
using Warren.Server.Configuration;
using Warren.Server.Auth;
using Warren.Server.Ingest;
using Warren.Server.Mirror;
using Warren.Server.Observability;
using Warren.Server.Storage;
using Warren.Server.Upstream;
using Warren.Storage;

namespace Warren.WebConsole.Data;

/// <summary>What the overview shows; the same at /api/overview. <paramref name="Readable"/>: the counts are those of
/// the modules the viewer may read (a viewer whose grants leave some out), with no store size; else they are the
/// store's. Without operations detail (<see cref="ConsoleAccessRules.SeesOperations"/>), upstreams, feeds and nodes are
/// numbered rather than named and the index and store are named by kind.</summary>
public sealed record OverviewModel(
    DateTimeOffset At,
    IndexStats? Index,
    string? IndexError,
    string IndexLocation,
    IReadOnlyList<MinuteSample> LastHour,
    IReadOnlyList<UpstreamHealth> Upstreams,
    IReadOnlyList<FeedStatus> Feeds,
    ClusterInfo Cluster,
    IReadOnlyList<RecentError> Errors,
    bool Readable = false)
{
    public long RequestsLastHour => LastHour.Sum(m => m.Requests);

    public long HitsLastHour => LastHour.Sum(m => m.Hits);

    public long MissesLastHour => LastHour.Sum(m => m.Misses);

    /// <summary>Store hits over hits and misses of the last hour, or null when nothing was served.</summary>
    public double? HitRatio => HitsLastHour + MissesLastHour is var n and > 0 ? (double)HitsLastHour / n : null;
}

/// <summary>An upstream proxy and its breaker: closed (healthy), open (passed over) or half-open (being probed).</summary>
public sealed record UpstreamHealth(string Upstream, string State, int ConsecutiveFailures, string? LastError, DateTimeOffset? OpenedAt, DateTimeOffset? NextProbe);

/// <summary>This node, whether it shares its index and store with others, and the nodes that say they share the index
/// (null when the index could not be asked).</summary>
public sealed record ClusterInfo(string Node, bool Shared, string Store, IReadOnlyList<ClusterNode>? Nodes);

/// <summary>A node process that shares the index: up while its heartbeat is recent, This for the node answering.</summary>
public sealed record ClusterNode(string Node, string Instance, string Version, DateTimeOffset StartedAt, DateTimeOffset LastSeen, bool Up, bool This);

/// <summary>Gathers the overview. The index keeps its counts as data changes, so asking for them costs a few module rows,
/// however large the index.</summary>
public sealed class OverviewData(IModuleIndex index, UpstreamChain upstreams, FeedFollower follower, ClusterFlights cluster, WarrenMetrics metrics,
    RecentErrors errors, NodeHeartbeats heartbeats, IOptions<WarrenOptions> options, TimeProvider time)
{
    /// <summary>Most errors shown.</summary>
    public const int MaxErrors = 20;

    /// <summary>Counts of what a viewer may read, per principal (a reloaded auth file makes new principals): recounted when
    /// the index changed and the count is older than <see cref="ReadableCountFor"/>.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, ReadableCount> _readable = new();
    private static readonly object AnonymousViewer = new();

    private sealed record ReadableCount(IndexStats Of, IndexStats Counted, DateTimeOffset At);

    /// <summary>How long a viewer's count stands while the index changes (an overview refreshes every 15 s): one walk of
    /// the module rows per viewer and period at most, however busy the proxy.</summary>
    public static readonly TimeSpan ReadableCountFor = TimeSpan.FromSeconds(30);

    public async Task<OverviewModel> GetAsync(ConsoleViewer viewer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        // Admins (and everyone without access control) read every module but those authorized by origin, and see the
        // store's counts; anyone else sees the counts of what it may read.
        var restricted = viewer.AccessControl && !viewer.IsAdmin;
        var operations = viewer.IsAdmin;
        var now = time.GetUtcNow();
        IndexStats? stats = null;
        IReadOnlyList<ClusterNode>? nodes = null;
        string? indexError = null;
        try
        {
            stats = await index.GetStatsAsync(cancellationToken).ConfigureAwait(false);
            if (restricted)
            {
                stats = await ReadableStatsAsync(viewer, stats, cancellationToken).ConfigureAwait(false);
            }

            nodes = (await index.ReadNodesAsync(cancellationToken).ConfigureAwait(false))
                .Select(n => new ClusterNode(n.Node, n.Instance[..Math.Min(8, n.Instance.Length)], n.Version, n.StartedAt, n.LastSeen,
                    now - n.LastSeen < NodeHeartbeats.UpFor, n.Instance == heartbeats.Instance))
                .ToList();
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
        // A feed's failure names the version: not shown to whoever may not read its module.
        var feeds = follower.Status.Select(f => Warren.Server.ConsoleData.ConsoleSyncView.Visible(f, viewer.CanRead)).ToList();
        // A file index is named by kind, not by its path on the server.
        var location = Path.IsPathRooted(index.Location) ? "SQLite (" + Path.GetFileName(index.Location) + " in the store root)" : index.Location;
        var store = string.IsNullOrEmpty(o.Store) ? "files under the root" : Fetch.Direct.Git.SecretRedactor.RedactText(o.Store);
        if (!operations)
        {
            health = health.Select((u, i) => u with { Upstream = "upstream " + (i + 1).ToString(CultureInfo.InvariantCulture), LastError = null }).ToList();
            feeds = feeds.Select((f, i) => f with
            {
                Feed = "feed " + (i + 1).ToString(CultureInfo.InvariantCulture),
                LastError = f.LastError is null ? null : Warren.Server.ConsoleData.ConsoleSyncView.FailingDetail,
            }).ToList();
            nodes = nodes?.Select((n, i) => n with { Node = n.This ? "this node" : "node " + (i + 1).ToString(CultureInfo.InvariantCulture) }).ToList();
            location = Path.IsPathRooted(index.Location) ? "SQLite" : "PostgreSQL";
            store = string.IsNullOrEmpty(o.Store) ? "files under the root" : o.Store.StartsWith("s3:", StringComparison.OrdinalIgnoreCase) ? "S3-compatible object storage" : "elsewhere";
        }

        return new OverviewModel(now, stats, indexError, location, metrics.Recent.LastHour(), health, feeds,
            new ClusterInfo(operations ? heartbeats.Node : "this node", cluster.IsShared, store, nodes), shown, restricted);
    }

    /// <summary>The modules and present versions the viewer may read (walking the index's module rows, a page at a time),
    /// kept until the index changes. No store size: that is the store's, not the viewer's.</summary>
    private async Task<IndexStats> ReadableStatsAsync(ConsoleViewer viewer, IndexStats all, CancellationToken cancellationToken)
    {
        var key = (object?)viewer.Principal ?? AnonymousViewer;
        var now = time.GetUtcNow();
        if (_readable.TryGetValue(key, out var cached) && (cached.Of == all || now - cached.At < ReadableCountFor))
        {
            return cached.Counted;
        }

        long modules = 0, versions = 0;
        string? after = null;
        while (true)
        {
            var page = await index.SearchModulesAsync("", after, ModuleSearch.MaxLimit, cancellationToken).ConfigureAwait(false);
            foreach (var m in page)
            {
                if (viewer.CanRead(m.ModulePath))
                {
                    modules++;
                    versions += m.Versions;
                }
            }

            if (page.Count < ModuleSearch.MaxLimit)
            {
                break;
            }

            after = page[^1].ModulePath;
        }

        var counted = new IndexStats(modules, versions, 0, 0);
        _readable.AddOrUpdate(key, new ReadableCount(all, counted, now));
        return counted;
    }
}

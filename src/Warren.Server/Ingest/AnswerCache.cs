using Warren.Core.Limits;
using Warren.Server.Storage;
using Warren.Server.Upstream;

namespace Warren.Server.Ingest;

/// <summary>How one list, @latest or version query is answered.</summary>
/// <param name="Key">The cache key ("list:PATH", "latest:PATH", "query:PATH@QUERY").</param>
/// <param name="Request">What is asked upstream.</param>
/// <param name="ContentType">The content type of the answer.</param>
/// <param name="Present">Turns upstream's body into what is sent (the list merges in the versions held).</param>
/// <param name="Fallback">What the store can say when upstream cannot (null: nothing).</param>
internal sealed record AnswerQuery(string Key, ModuleRequest Request, string ContentType,
    Func<byte[], CancellationToken, ValueTask<byte[]>> Present, Func<CancellationToken, Task<byte[]?>> Fallback)
{
    /// <summary>The metrics label: "list", "latest" or "query".</summary>
    public string Label => LabelOf(Request);

    public static string LabelOf(ModuleRequest request) => request.Kind == RequestKind.Info ? "query" : request.Kind.Label();
}

/// <summary>Answers to list, @latest and version queries, which change upstream: remembered in memory as presented
/// while fresh (bounded by count and bytes), persisted in the index as fetched, and served stale while upstream fails.
/// An expired answer is refreshed by one request at a time; the others meanwhile get the expired answer at once.</summary>
public sealed class AnswerCache
{
    private const int MaxFreshAnswers = 50_000;

    private readonly IModuleIndex _index;
    private readonly WarrenMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly ILogger<AnswerCache> _logger;

    /// <summary>Fresh answers as presented (merged), until their TTL ends.</summary>
    private readonly BoundedCache<byte[]> _fresh;

    /// <summary>Keys whose expired answer is being refreshed by a request of this process now, with that expired answer
    /// as presented (made once, by the first request that needs it), so that everyone else is answered from memory.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<byte[]>>> _refreshing = new(StringComparer.Ordinal);

    public AnswerCache(IModuleIndex index, WarrenMetrics metrics, TimeProvider time, IOptions<WarrenOptions> options, ILogger<AnswerCache> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _index = index;
        _metrics = metrics;
        _time = time;
        _ttl = o.ListTtl;
        _logger = logger;
        _fresh = new BoundedCache<byte[]>(Math.Min(MaxFreshAnswers, o.MemoryCacheEntries), Math.Max(1, o.MemoryCacheBytes / 4),
            static body => body.Length + 128, time: time);
    }

    /// <summary>Answers from memory or the index while fresh; else from refresh (which fetches, checks and persists);
    /// when that fails for any reason but "not found", from the stale copy or the fallback.</summary>
    internal async Task<ServeResult> GetAsync(AnswerQuery query, Func<Task<FlightResult>> refresh, CancellationToken cancellationToken)
    {
        var label = query.Label;
        var now = _time.GetUtcNow();
        if (_fresh.TryGet(query.Key, out var remembered))
        {
            _metrics.CacheHit(label);
            return Content(remembered);
        }

        // Another request refreshes this answer now: until it is done the expired answer serves everyone else
        // (stale-while-revalidate), from memory, marked as not to be cached downstream.
        if (_refreshing.TryGetValue(query.Key, out var stale) && await StaleAsync(stale, cancellationToken).ConfigureAwait(false) is { } expired)
        {
            _metrics.StaleServed(label);
            return new ContentAnswer(expired, query.ContentType, TimeSpan.Zero);
        }

        var persisted = await GetPersistedAsync(query.Key, cancellationToken).ConfigureAwait(false);
        if (persisted is not null && now - persisted.FetchedAt < _ttl)
        {
            _metrics.CacheHit(label);
            return Remember(await query.Present(persisted.Body, cancellationToken).ConfigureAwait(false), persisted.FetchedAt);
        }

        if (persisted is not null)
        {
            var mine = new Lazy<Task<byte[]>>(() => query.Present(persisted.Body, CancellationToken.None).AsTask());
            if (!_refreshing.TryAdd(query.Key, mine))
            {
                _metrics.StaleServed(label);
                return new ContentAnswer(await query.Present(persisted.Body, cancellationToken).ConfigureAwait(false), query.ContentType, TimeSpan.Zero);
            }
        }

        FlightResult flight;
        try
        {
            flight = await refresh().ConfigureAwait(false);
        }
        finally
        {
            if (persisted is not null)
            {
                _refreshing.TryRemove(query.Key, out _);
            }
        }

        if (flight.Failure is not { } failure)
        {
            return Remember(await query.Present(flight.Body!, cancellationToken).ConfigureAwait(false), now);
        }

        if (!failure.IsNotFound && persisted is not null)
        {
            _metrics.StaleServed(label);
            Log.ServingStale(_logger, query.Request.ToString(), failure.Message);
            return Content(await query.Present(persisted.Body, cancellationToken).ConfigureAwait(false));
        }

        var held = await query.Fallback(cancellationToken).ConfigureAwait(false);
        if (held is not null)
        {
            if (!failure.IsNotFound)
            {
                _metrics.StaleServed(label);
                Log.ServingStale(_logger, query.Request.ToString(), failure.Message);
            }

            return Content(held);
        }

        return failure;

        ContentAnswer Content(byte[] body) => new(body, query.ContentType, _ttl);

        ContentAnswer Remember(byte[] body, DateTimeOffset fetchedAt)
        {
            var ttl = fetchedAt + _ttl - _time.GetUtcNow();
            if (ttl > TimeSpan.Zero)
            {
                _fresh.Set(query.Key, body, ttl);
            }

            return Content(body);
        }
    }

    /// <summary>The expired answer a refresh under way serves to others; null when presenting it failed (the caller then
    /// reads the index as usual).</summary>
    private static async Task<byte[]?> StaleAsync(Lazy<Task<byte[]>> stale, CancellationToken cancellationToken)
    {
        try
        {
            return await stale.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>A new version in the store changes what list and @latest present: forget the remembered answers.</summary>
    public void Forget(string modulePath)
    {
        _fresh.Remove("list:" + modulePath);
        _fresh.Remove("latest:" + modulePath);
    }

    /// <summary>Keeps upstream's body of a fresh answer, as fetched now.</summary>
    public Task PersistAsync(string key, byte[] body, CancellationToken cancellationToken) =>
        _index.PutAnswerAsync(key, body, _time.GetUtcNow(), cancellationToken);

    internal Task<CachedAnswer?> GetPersistedAsync(string key, CancellationToken cancellationToken) => _index.GetAnswerAsync(key, cancellationToken);
}

using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Warren.Server.Configuration;
using Warren.Server.Ingest;
using Warren.Server.Observability;
using Warren.Server.Storage;
using Warren.Server.Upstream;
using Warren.Storage.Sqlite;

namespace Warren.Server.Tests.Ingest;

/// <summary>List/@latest answers: fresh from memory or the index until the TTL ends, then refreshed; stale while
/// upstream fails, never when it says "not found"; the store's fallback when nothing else is there.</summary>
public sealed class AnswerCacheTests : IDisposable
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private readonly ManualTimeProvider _time = new();
    private readonly SqliteModuleIndex _index;
    private readonly AnswerCache _cache;
    private int _refreshes;
    private int _presented;

    public AnswerCacheTests()
    {
        var options = Options.Create(new WarrenOptions { Root = TestPaths.NewTempDir("answer-cache"), ListTtl = Ttl });
        _index = new SqliteModuleIndex(new SqliteIndexOptions { Path = Path.Combine(options.Value.Root!, "index.db") }, _time);
        _cache = new AnswerCache(_index, new WarrenMetrics(), _time, options, NullLogger<AnswerCache>.Instance);
    }

    public void Dispose()
    {
        _index.Dispose();
    }

    [Fact]
    public async Task A_fresh_answer_is_served_without_asking_upstream_until_its_ttl_ends()
    {
        var query = Query("list:example.com/m");
        Assert.Equal("v1.0.0\n", Body(await _cache.GetAsync(query, Upstream(query, "v1.0.0\n"), default)));
        Assert.Equal(1, _refreshes);

        _time.Advance(Ttl - TimeSpan.FromSeconds(1));
        Assert.Equal("v1.0.0\n", Body(await _cache.GetAsync(query, Upstream(query, "v1.1.0\n"), default)));
        Assert.Equal(1, _refreshes);

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("v1.1.0\n", Body(await _cache.GetAsync(query, Upstream(query, "v1.1.0\n"), default)));
        Assert.Equal(2, _refreshes);
    }

    [Fact]
    public async Task A_persisted_answer_is_fresh_for_a_new_cache_too()
    {
        var query = Query("latest:example.com/m");
        await _cache.GetAsync(query, Upstream(query, "{\"Version\":\"v1.0.0\"}"), default);

        var restarted = new AnswerCache(_index, new WarrenMetrics(), _time, Options.Create(new WarrenOptions { ListTtl = Ttl }), NullLogger<AnswerCache>.Instance);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("{\"Version\":\"v1.0.0\"}", Body(await restarted.GetAsync(query, Upstream(query, "{\"Version\":\"v2.0.0\"}"), default)));
        Assert.Equal(1, _refreshes);
    }

    [Theory]
    [InlineData(OutcomeKind.UpstreamFailed)]
    [InlineData(OutcomeKind.Timeout)]
    [InlineData(OutcomeKind.Refused)]
    public async Task An_expired_answer_is_served_stale_while_upstream_fails(OutcomeKind kind)
    {
        var query = Query("list:example.com/m");
        await _cache.GetAsync(query, Upstream(query, "v1.0.0\n"), default);
        _time.Advance(Ttl * 3);

        var result = await _cache.GetAsync(query, Failing(new Outcome(kind, "upstream failed: 503")), default);
        var content = Assert.IsType<ContentAnswer>(result);
        Assert.Equal("v1.0.0\n", Encoding.UTF8.GetString(content.Body));
        Assert.Equal(Ttl, content.MaxAge);
        Assert.Equal(2, _refreshes);

        // A stale copy is not remembered as fresh: the next request asks again.
        await _cache.GetAsync(query, Failing(new Outcome(kind, "upstream failed: 503")), default);
        Assert.Equal(3, _refreshes);
    }

    [Theory]
    [InlineData(OutcomeKind.NotFound)]
    [InlineData(OutcomeKind.Gone)]
    public async Task Not_found_is_not_hidden_by_a_stale_copy(OutcomeKind kind)
    {
        var query = Query("list:example.com/m");
        await _cache.GetAsync(query, Upstream(query, "v1.0.0\n"), default);
        _time.Advance(Ttl * 2);

        var outcome = Assert.IsType<Outcome>(await _cache.GetAsync(query, Failing(new Outcome(kind, "not found: example.com/m")), default));
        Assert.Equal(kind, outcome.Kind);
        Assert.Equal("not found: example.com/m", outcome.Message);
    }

    [Fact]
    public async Task Without_a_stale_copy_the_fallback_answers_and_else_the_outcome_is_passed_on()
    {
        var held = Query("list:example.com/held", fallback: "v0.1.0\n");
        Assert.Equal("v0.1.0\n", Body(await _cache.GetAsync(held, Failing(Outcome.UpstreamFailed("upstream failed: refused")), default)));
        Assert.Equal("v0.1.0\n", Body(await _cache.GetAsync(held, Failing(Outcome.NotFound("not found: example.com/held")), default)));

        var nothing = Query("list:example.com/none");
        var outcome = Assert.IsType<Outcome>(await _cache.GetAsync(nothing, Failing(Outcome.Timeout("upstream failed: timed out")), default));
        Assert.Equal(OutcomeKind.Timeout, outcome.Kind);
    }

    [Fact]
    public async Task Forget_drops_the_presented_list_and_latest_so_they_are_presented_again()
    {
        var list = Query("list:example.com/m");
        await _cache.GetAsync(list, Upstream(list, "v1.0.0\n"), default);
        await _cache.GetAsync(list, Upstream(list, "v1.0.0\n"), default);
        Assert.Equal(1, _presented);

        _cache.Forget("example.com/m");
        await _cache.GetAsync(list, Upstream(list, "v1.0.0\n"), default);

        // Still fresh in the index: presented again (merged with what is held now), not fetched again.
        Assert.Equal(2, _presented);
        Assert.Equal(1, _refreshes);
    }

    [Fact]
    public async Task While_one_request_refreshes_an_expired_answer_the_others_get_the_expired_answer_at_once()
    {
        var query = Query("list:example.com/m");
        await _cache.GetAsync(query, Upstream(query, "v1.0.0\n"), default);
        _time.Advance(Ttl * 2);

        // The first request after expiry refreshes, and its upstream is slow.
        var release = new TaskCompletionSource();
        var refreshing = _cache.GetAsync(query, async () =>
        {
            await release.Task;
            return await Upstream(query, "v1.0.0\nv1.1.0\n")();
        }, default);
        Assert.False(refreshing.IsCompleted);

        // Meanwhile every other request is answered from the expired copy without asking upstream, not cacheable
        // downstream, and from memory: the expired copy is presented once for all of them.
        var presented = _presented;
        for (var i = 0; i < 5; i++)
        {
            var stale = Assert.IsType<ContentAnswer>(await _cache.GetAsync(query, Failing(Outcome.UpstreamFailed("must not be asked")), default));
            Assert.Equal("v1.0.0\n", Encoding.UTF8.GetString(stale.Body));
            Assert.Equal(TimeSpan.Zero, stale.MaxAge);
        }

        Assert.Equal(presented + 1, _presented);
        Assert.Equal(1, _refreshes);
        release.SetResult();
        Assert.Equal("v1.0.0\nv1.1.0\n", Body(await refreshing));
        Assert.Equal(2, _refreshes);

        // Fresh again: served as refreshed.
        Assert.Equal("v1.0.0\nv1.1.0\n", Body(await _cache.GetAsync(query, Failing(Outcome.UpstreamFailed("must not be asked")), default)));
        Assert.Equal(2, _refreshes);

        // A refresh that fails lets the next request refresh again.
        _time.Advance(Ttl * 2);
        await _cache.GetAsync(query, Failing(Outcome.UpstreamFailed("upstream failed: 503")), default);
        await _cache.GetAsync(query, Failing(Outcome.UpstreamFailed("upstream failed: 503")), default);
        Assert.Equal(4, _refreshes);
    }

    private AnswerQuery Query(string key, string? fallback = null) =>
        new(key, new ModuleRequest("example.com/m", null, key.StartsWith("list:", StringComparison.Ordinal) ? RequestKind.List : RequestKind.Latest),
            "text/plain; charset=utf-8",
            (body, _) =>
            {
                Interlocked.Increment(ref _presented);
                return ValueTask.FromResult(body);
            },
            _ => Task.FromResult(fallback is null ? null : Encoding.UTF8.GetBytes(fallback)));

    /// <summary>What the ingestor does on a refresh that succeeds: persist the body, hand it back.</summary>
    private Func<Task<FlightResult>> Upstream(AnswerQuery query, string body) => async () =>
    {
        Interlocked.Increment(ref _refreshes);
        var bytes = Encoding.UTF8.GetBytes(body);
        await _cache.PersistAsync(query.Key, bytes, default);
        return new FlightResult(null, bytes);
    };

    private Func<Task<FlightResult>> Failing(Outcome outcome) => () =>
    {
        Interlocked.Increment(ref _refreshes);
        return Task.FromResult<FlightResult>(outcome);
    };

    private static string Body(ServeResult result) => Encoding.UTF8.GetString(Assert.IsType<ContentAnswer>(result).Body);
}

using Warren.Server.Ingest;

namespace Warren.Server.Tests.Ingest;

/// <summary>The negative cache remembers a "not found" outcome for its time to live, and no more than its bound.</summary>
public sealed class NegativeCacheTests
{
    [Fact]
    public void An_outcome_is_remembered_as_given_until_its_ttl_ends()
    {
        var time = new ManualTimeProvider();
        var cache = new NegativeCache(time);
        cache.Add("mod:example.com/m@v1.0.0", Outcome.Gone("gone: withdrawn"), TimeSpan.FromMinutes(1));

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(cache.TryGet("mod:example.com/m@v1.0.0", out var outcome));
        Assert.Equal(OutcomeKind.Gone, outcome.Kind);
        Assert.Equal("gone: withdrawn", outcome.Message);
        Assert.False(cache.TryGet("mod:example.com/m@v1.0.1", out _));

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(cache.TryGet("mod:example.com/m@v1.0.0", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_ttl_that_is_not_positive_remembers_nothing()
    {
        var cache = new NegativeCache(new ManualTimeProvider());
        cache.Add("a", Outcome.NotFound("not found"), TimeSpan.Zero);
        cache.Add("b", Outcome.NotFound("not found"), TimeSpan.FromSeconds(-1));
        Assert.False(cache.TryGet("a", out _));
        Assert.False(cache.TryGet("b", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void It_stays_within_its_bound_and_keeps_the_newest()
    {
        var cache = new NegativeCache(new ManualTimeProvider(), maxEntries: 50);
        for (var i = 0; i < 500; i++)
        {
            cache.Add("k" + i, Outcome.NotFound("not found: k" + i), TimeSpan.FromMinutes(1));
            Assert.True(cache.Count <= 50, $"count {cache.Count} after {i + 1} additions");
        }

        Assert.True(cache.TryGet("k499", out var newest));
        Assert.Equal("not found: k499", newest.Message);
        Assert.False(cache.TryGet("k0", out _));
    }

    [Fact]
    public void A_removed_entry_is_forgotten_and_a_new_one_replaces_the_old()
    {
        var cache = new NegativeCache(new ManualTimeProvider());
        cache.Add("k", Outcome.NotFound("first"), TimeSpan.FromMinutes(1));
        cache.Add("k", Outcome.Gone("second"), TimeSpan.FromMinutes(1));
        Assert.True(cache.TryGet("k", out var replaced));
        Assert.Equal(OutcomeKind.Gone, replaced.Kind);

        cache.Remove("k");
        Assert.False(cache.TryGet("k", out _));
    }
}

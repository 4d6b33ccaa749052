using Warren.Core.Limits;

namespace Warren.Core.Tests.Limits;

public sealed class PendingCountsTests
{
    [Fact]
    public void Adds_counts_keeps_the_latest_time_refuses_new_keys_over_capacity_and_starts_afresh_after_a_take()
    {
        var counts = new PendingCounts<string>(2);
        Assert.True(counts.Add("a", 1, 100));
        Assert.True(counts.Add("a", 2, 50));
        Assert.True(counts.Add("b", 0, 70));
        Assert.False(counts.Add("c", 1, 80));
        Assert.True(counts.Add("b", 1, 90));

        var taken = counts.TakeAll().OrderBy(e => e.Key).ToList();
        Assert.Equal([("a", 3L, 100L), ("b", 1L, 90L)], taken);
        Assert.Empty(counts.TakeAll());
        Assert.True(counts.Add("c", 1, 80));
    }

    [Fact]
    public async Task Concurrent_adds_are_all_counted()
    {
        var counts = new PendingCounts<int>(10);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counts.Add(i % 10, 1, i);
            }
        })));
        var taken = counts.TakeAll();
        Assert.Equal(40_000, taken.Sum(e => e.Count));
        Assert.Equal(9_999, taken.Max(e => e.LastTicks));
    }
}

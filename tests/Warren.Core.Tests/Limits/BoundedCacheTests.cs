using Warren.Core.Limits;

namespace Warren.Core.Tests.Limits;

public sealed class BoundedCacheTests
{
    [Fact]
    public void Past_the_count_the_least_recently_used_entries_go()
    {
        var evicted = new List<int>();
        var cache = new BoundedCache<int>(8, onEvicted: evicted.Add);
        for (var i = 0; i < 8; i++)
        {
            cache.Set("k" + i, i);
        }

        // k0 and k1 are used again, so k2.. are the oldest.
        Assert.True(cache.TryGet("k0", out _));
        Assert.True(cache.TryGet("k1", out _));
        cache.Set("k8", 8);

        Assert.True(cache.Count <= 6, $"count {cache.Count}");
        Assert.True(cache.TryGet("k0", out _) && cache.TryGet("k1", out _) && cache.TryGet("k8", out _));
        Assert.False(cache.TryGet("k2", out _));
        Assert.Equal(9 - cache.Count, evicted.Count);
        Assert.Contains(2, evicted);
    }

    [Fact]
    public void Past_the_byte_budget_entries_go_until_a_quarter_is_free()
    {
        var cache = new BoundedCache<byte[]>(1000, maxBytes: 1000, sizeOf: b => b.Length);
        for (var i = 0; i < 10; i++)
        {
            cache.Set("k" + i, new byte[100]);
        }

        Assert.Equal(1000, cache.Bytes);
        cache.Set("big", new byte[300]);
        Assert.True(cache.Bytes <= 750, $"bytes {cache.Bytes}");
        Assert.True(cache.TryGet("big", out _));
        Assert.False(cache.TryGet("k0", out _));

        // Larger than the whole budget: not kept.
        Assert.False(cache.Set("huge", new byte[1001]));
        Assert.False(cache.TryGet("huge", out _));
    }

    [Fact]
    public void Replacing_and_removing_hand_the_old_value_over_once_and_keep_the_byte_count()
    {
        var evicted = new List<string>();
        var cache = new BoundedCache<string>(10, 100, s => s.Length, evicted.Add);
        cache.Set("a", "one");
        cache.Set("a", "three");
        Assert.Equal(5, cache.Bytes);
        Assert.Equal("three", cache.GetOrAdd("a", "ignored"));
        Assert.True(cache.Remove("a"));
        Assert.False(cache.Remove("a"));
        Assert.Equal(0, cache.Bytes);
        Assert.Equal(["one", "three"], evicted);
    }

    [Fact]
    public void Expired_entries_are_not_returned_and_go_first()
    {
        var time = new ManualClock();
        var cache = new BoundedCache<int>(100, time: time);
        cache.Set("short", 1, TimeSpan.FromMinutes(1));
        cache.Set("long", 2, TimeSpan.FromHours(1));
        cache.Set("forever", 3);
        time.Now += TimeSpan.FromMinutes(2);
        Assert.False(cache.TryGet("short", out _));
        Assert.True(cache.TryGet("long", out _));
        time.Now += TimeSpan.FromHours(1);
        Assert.Equal(1, cache.RemoveExpired());
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet("forever", out var v) && v == 3);
    }

    [Fact]
    public async Task Concurrent_use_keeps_the_bounds()
    {
        var cache = new BoundedCache<byte[]>(500, maxBytes: 20_000, sizeOf: b => b.Length);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                cache.Set($"{t}-{i % 3000}", new byte[i % 50]);
                cache.TryGet($"{t}-{(i * 7) % 3000}", out _);
            }
        })));
        Assert.True(cache.Count <= 500, $"count {cache.Count}");
        Assert.True(cache.Bytes <= 20_000, $"bytes {cache.Bytes}");
    }

    [Fact]
    public async Task A_gate_lets_limit_callers_in_and_counts_waiters()
    {
        using var gate = new ConcurrencyGate(2);
        using var a = await gate.EnterAsync(default);
        using var b = await gate.EnterAsync(default);
        var waiting = gate.EnterAsync(default).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, gate.Waiting);
        a.Dispose();
        using (await waiting)
        {
            Assert.Equal(2, gate.InUse);
        }

        using var c = await gate.EnterAsync(default);
        using var cts = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await gate.EnterAsync(cts.Token));
        Assert.Equal(0, gate.Waiting);
        Assert.Equal(2, gate.Peak);
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}

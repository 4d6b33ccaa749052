using Warren.Server.Auth;

namespace Warren.Server.Tests.Auth;

public sealed class AccessLogCoalescerTests
{
    [Fact]
    public void The_first_event_of_a_key_is_logged_repeats_inside_the_window_are_counted_and_reported_on_the_next_line()
    {
        var time = new ManualTimeProvider();
        var coalescer = new AccessLogCoalescer(time, TimeSpan.FromMinutes(1));

        Assert.True(coalescer.ShouldLog("alice", "example.com/m", "v1.0.0", "zip", 200, out var repeats));
        Assert.Equal(0, repeats);
        for (var i = 0; i < 5; i++)
        {
            Assert.False(coalescer.ShouldLog("alice", "example.com/m", "v1.0.0", "zip", 200, out _));
        }

        // Any other principal, version, artifact or status is another key, logged at once.
        Assert.True(coalescer.ShouldLog("bob", "example.com/m", "v1.0.0", "zip", 200, out _));
        Assert.True(coalescer.ShouldLog("alice", "example.com/m", "v1.0.1", "zip", 200, out _));
        Assert.True(coalescer.ShouldLog("alice", "example.com/m", "v1.0.0", "mod", 200, out _));
        Assert.True(coalescer.ShouldLog("alice", "example.com/m", "v1.0.0", "zip", 304, out _));

        time.Advance(TimeSpan.FromSeconds(61));
        Assert.True(coalescer.ShouldLog("alice", "example.com/m", "v1.0.0", "zip", 200, out repeats));
        Assert.Equal(5, repeats);
        Assert.False(coalescer.ShouldLog("alice", "example.com/m", "v1.0.0", "zip", 200, out _));
    }

    [Fact]
    public void A_zero_window_logs_every_event_and_the_table_stays_bounded()
    {
        var always = new AccessLogCoalescer(new ManualTimeProvider(), TimeSpan.Zero);
        Assert.True(always.ShouldLog("a", "m", "v", "zip", 200, out _));
        Assert.True(always.ShouldLog("a", "m", "v", "zip", 200, out _));

        var coalescer = new AccessLogCoalescer(new ManualTimeProvider(), TimeSpan.FromMinutes(1));
        for (var i = 0; i <= AccessLogCoalescer.MaxKeys; i++)
        {
            Assert.True(coalescer.ShouldLog("p" + i, "m", "v", "zip", 200, out _));
        }

        // The table was emptied when full: the first key is new again.
        Assert.True(coalescer.ShouldLog("p0", "m", "v", "zip", 200, out _));
    }
}

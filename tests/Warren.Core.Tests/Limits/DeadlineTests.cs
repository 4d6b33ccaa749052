using Warren.Core.Limits;

namespace Warren.Core.Tests.Limits;

public sealed class DeadlineTests
{
    [Fact]
    public void The_time_limit_runs_on_the_given_clock()
    {
        var clock = new TimerClock();
        using var deadline = new Deadline(TimeSpan.FromSeconds(30), clock, CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(30), clock.DueTime);
        Assert.False(deadline.Token.IsCancellationRequested);
        clock.Fire();
        Assert.True(deadline.Token.IsCancellationRequested);
    }

    [Fact]
    public void The_callers_token_cancels_it_before_the_limit()
    {
        var clock = new TimerClock();
        using var caller = new CancellationTokenSource();
        using var deadline = new Deadline(TimeSpan.FromSeconds(30), clock, caller.Token);
        caller.Cancel();
        Assert.True(deadline.Token.IsCancellationRequested);
    }

    /// <summary>A clock whose one timer fires when the test says so.</summary>
    private sealed class TimerClock : TimeProvider
    {
        private TimerCallback? _callback;
        private object? _state;

        public TimeSpan DueTime { get; private set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            (_callback, _state, DueTime) = (callback, state, dueTime);
            return new NoTimer();
        }

        public void Fire() => _callback!(_state);

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}

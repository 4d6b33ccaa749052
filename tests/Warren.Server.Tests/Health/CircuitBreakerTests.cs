using Warren.Server.Configuration;
using Warren.Server.Upstream;

namespace Warren.Server.Tests.Health;

/// <summary>The breaker's state machine, on a clock that moves only when told.</summary>
public sealed class CircuitBreakerTests
{
    private const string Name = "http://regional.example";
    private static readonly BreakerSettings Settings = new(3, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20));

    private static FetchOutcome Down(bool timedOut = false) =>
        FetchOutcome.Failed(Name, timedOut ? "timed out after 2s" : "connection refused", timedOut) with { SourceDown = true };

    private static (CircuitBreaker Breaker, ManualTimeProvider Clock, List<BreakerState> Changes) NewBreaker(BreakerSettings? settings = null)
    {
        var clock = new ManualTimeProvider();
        var breaker = new CircuitBreaker(Name, settings ?? Settings, clock);
        var changes = new List<BreakerState>();
        breaker.Changed += (_, state) => changes.Add(state);
        return (breaker, clock, changes);
    }

    [Fact]
    public void Opens_after_N_consecutive_failures_and_refuses_at_once_with_a_one_line_reason()
    {
        var (breaker, _, changes) = NewBreaker();
        breaker.Record(Down());
        breaker.Record(Down());
        Assert.Null(breaker.Refusal());
        Assert.Equal(BreakerState.Closed, breaker.State);

        breaker.Record(Down());
        Assert.Equal(BreakerState.Open, breaker.State);
        Assert.Equal([BreakerState.Open], changes);
        var refusal = breaker.Refusal();
        Assert.NotNull(refusal);
        Assert.Equal(FetchStatus.Failed, refusal.Status);
        Assert.StartsWith($"upstream {Name} is down (circuit open)", refusal.Reason, StringComparison.Ordinal);
        Assert.Contains("connection refused", refusal.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refusal.Reason);
    }

    [Fact]
    public void An_answer_found_or_not_resets_the_count_and_failures_about_one_request_do_not_count()
    {
        var (breaker, _, _) = NewBreaker();
        breaker.Record(Down());
        breaker.Record(Down());
        breaker.Record(FetchOutcome.NotFound(Name, "not found"));
        breaker.Record(Down());
        breaker.Record(Down());
        Assert.Equal(BreakerState.Closed, breaker.State);

        breaker.Record(FetchOutcome.Ok(Name, 10));
        breaker.Record(Down());
        breaker.Record(Down());
        // Too large, refused by the egress policy: about this request, not the upstream's health.
        breaker.Record(FetchOutcome.Failed(Name, "response exceeds the limit"));
        breaker.Record(FetchOutcome.Failed(Name, "refused by the egress policy"));
        Assert.Equal(BreakerState.Closed, breaker.State);
        Assert.Equal(2, breaker.Snapshot().ConsecutiveFailures);
    }

    [Fact]
    public void A_breaker_opened_by_timeouts_refuses_with_a_timeout_as_the_real_request_would_have_ended()
    {
        var (breaker, _, _) = NewBreaker();
        for (var i = 0; i < 3; i++)
        {
            breaker.Record(Down(timedOut: true));
        }

        Assert.Equal(FetchStatus.TimedOut, breaker.Refusal()!.Status);
    }

    [Fact]
    public void Probes_come_after_a_cool_down_that_doubles_with_each_failed_probe_up_to_the_limit_and_an_answer_closes_it()
    {
        var (breaker, clock, changes) = NewBreaker();
        Assert.Null(breaker.UntilProbe());
        for (var i = 0; i < 3; i++)
        {
            breaker.Record(Down());
        }

        Assert.Equal(TimeSpan.FromSeconds(5), breaker.UntilProbe());
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(2), breaker.UntilProbe());
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.Zero, breaker.UntilProbe());

        breaker.Probed("connection refused");
        Assert.Equal(TimeSpan.FromSeconds(10), breaker.UntilProbe());
        clock.Advance(TimeSpan.FromSeconds(10));
        breaker.Probed("connection refused");
        Assert.Equal(TimeSpan.FromSeconds(20), breaker.UntilProbe());
        clock.Advance(TimeSpan.FromSeconds(20));
        breaker.Probed("connection refused");
        Assert.Equal(TimeSpan.FromSeconds(20), breaker.UntilProbe());
        Assert.Equal(BreakerState.Open, breaker.State);

        // A request that was under way when it opened does not grow the cool-down.
        breaker.Record(Down());
        Assert.Equal(TimeSpan.FromSeconds(20), breaker.UntilProbe());

        clock.Advance(TimeSpan.FromSeconds(20));
        breaker.Probed(null);
        Assert.Equal(BreakerState.Closed, breaker.State);
        Assert.Null(breaker.Refusal());
        Assert.Null(breaker.UntilProbe());
        Assert.Equal([BreakerState.Open, BreakerState.Closed], changes);

        // Closed again, it starts over: N failures, then the first cool-down.
        var snapshot = breaker.Snapshot();
        Assert.Equal(0, snapshot.ConsecutiveFailures);
        Assert.Equal(1, snapshot.Opened);
        for (var i = 0; i < 3; i++)
        {
            breaker.Record(Down());
        }

        Assert.Equal(TimeSpan.FromSeconds(5), breaker.UntilProbe());
        Assert.Equal(2, breaker.Snapshot().Opened);
        Assert.Equal(clock.GetUtcNow(), breaker.Snapshot().OpenedAt);
    }

    [Fact]
    public void An_answer_to_a_request_under_way_closes_an_open_breaker()
    {
        var (breaker, _, changes) = NewBreaker();
        for (var i = 0; i < 3; i++)
        {
            breaker.Record(Down());
        }

        breaker.Record(FetchOutcome.NotFound(Name, "not found"));
        Assert.Equal(BreakerState.Closed, breaker.State);
        Assert.Equal([BreakerState.Open, BreakerState.Closed], changes);
    }

    [Fact]
    public void Zero_failures_turns_the_breaker_off()
    {
        var (breaker, _, changes) = NewBreaker(Settings with { Failures = 0 });
        for (var i = 0; i < 100; i++)
        {
            breaker.Record(Down());
        }

        Assert.Equal(BreakerState.Closed, breaker.State);
        Assert.Empty(changes);
    }

    [Fact]
    public void The_settings_come_from_the_options_and_bad_values_are_refused_one_line_each()
    {
        var settings = BreakerSettings.From(new WarrenOptions { UpstreamFailures = 4, UpstreamCooldown = TimeSpan.FromSeconds(2) });
        Assert.Equal(new BreakerSettings(4, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(64)), settings);
        Assert.Equal(5, new WarrenOptions().UpstreamFailures);

        var options = new WarrenOptionsBuilder
        {
            Root = TestPaths.NewTempDir("breaker-config"), Upstream = "off", SumDb = "off", UpstreamFailures = -1, UpstreamCooldown = TimeSpan.Zero,
        }.Build();
        var failures = new WarrenOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("upstream failures must be 0", StringComparison.Ordinal) && !f.Contains('\n', StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("upstream cool-down must be positive", StringComparison.Ordinal) && !f.Contains('\n', StringComparison.Ordinal));
    }
}

namespace Warren.Server.Upstream;

public enum BreakerState
{
    /// <summary>Requests go to the upstream.</summary>
    Closed,

    /// <summary>The upstream is taken as down: requests fail at once without contacting it, and a background probe
    /// closes the breaker again when it answers.</summary>
    Open,
}

/// <summary>The breaker settings: how many consecutive failures open it, the first cool-down before a probe, and the
/// longest cool-down it grows to (doubling after each failed probe).</summary>
public sealed record BreakerSettings(int Failures, TimeSpan Cooldown, TimeSpan MaxCooldown)
{
    /// <summary>How much the cool-down may grow: <see cref="MaxCooldown"/> is this many times the first one.</summary>
    public const int MaxGrowth = 32;

    public static BreakerSettings From(WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new BreakerSettings(options.UpstreamFailures, options.UpstreamCooldown, options.UpstreamCooldown * MaxGrowth);
    }

    /// <summary>False when breakers are turned off (--upstream-failures 0).</summary>
    public bool Enabled => Failures > 0;
}

/// <summary>What a breaker says about its upstream, for /readyz.</summary>
public sealed record BreakerSnapshot(string Upstream, BreakerState State, int ConsecutiveFailures, string? LastError, DateTimeOffset? OpenedAt,
    DateTimeOffset? NextProbe, TimeSpan Cooldown, long Opened);

/// <summary>A circuit breaker for one upstream. After <see cref="BreakerSettings.Failures"/> consecutive failures
/// (no connection, a 5xx, a timeout: an upstream that is down, not one that answered "not found") it opens: requests
/// are refused at once with the kind of failure that opened it, until a background probe gets an answer. Each failed
/// probe doubles the cool-down before the next, up to <see cref="BreakerSettings.MaxCooldown"/>. Any answer (a probe's,
/// or one of a request that was already under way) closes it. Time comes from a <see cref="TimeProvider"/>; the
/// breaker keeps no timer of its own (the chain schedules the probes).</summary>
public sealed class CircuitBreaker(string upstream, BreakerSettings settings, TimeProvider time)
{
    private readonly Lock _lock = new();
    private BreakerState _state;
    private int _failures;
    private string? _lastError;
    private FetchStatus _lastStatus = FetchStatus.Failed;
    private DateTimeOffset? _openedAt;
    private DateTimeOffset _nextProbe;
    private TimeSpan _cooldown = settings.Cooldown;
    private long _opened;

    /// <summary>Raised (outside the breaker's lock) when the state changes: the breaker and its new state.</summary>
    public event Action<CircuitBreaker, BreakerState>? Changed;

    public string Upstream => upstream;

    public BreakerState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>Null when a request may go to the upstream; else the failure it gets instead, at once.</summary>
    public FetchOutcome? Refusal()
    {
        lock (_lock)
        {
            return _state == BreakerState.Closed ? null
                : FetchOutcome.Failed(upstream, $"upstream {upstream} is down (circuit open): {_lastError}", timedOut: _lastStatus == FetchStatus.TimedOut) with { SourceDown = true };
        }
    }

    /// <summary>Counts what a request to the upstream came to: an answer (found or not) resets the count and closes the
    /// breaker; a failure that says the upstream is down counts towards opening it; other failures (too large, refused
    /// by the egress policy) say nothing about its health.</summary>
    public void Record(FetchOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.IsOk || outcome.IsNotFound)
        {
            Answered();
        }
        else if (outcome.SourceDown)
        {
            Failed(outcome.Status, outcome.Reason, probe: false);
        }
    }

    /// <summary>The time until the next probe is due (zero when due; null while closed).</summary>
    public TimeSpan? UntilProbe()
    {
        lock (_lock)
        {
            if (_state == BreakerState.Closed)
            {
                return null;
            }

            var wait = _nextProbe - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
    }

    /// <summary>A probe's result: null when the upstream answered, else why not.</summary>
    public void Probed(string? failure)
    {
        if (failure is null)
        {
            Answered();
        }
        else
        {
            Failed(FetchStatus.Failed, failure, probe: true);
        }
    }

    public BreakerSnapshot Snapshot()
    {
        lock (_lock)
        {
            return new BreakerSnapshot(upstream, _state, _failures, _lastError, _openedAt, _state == BreakerState.Open ? _nextProbe : null, _cooldown, _opened);
        }
    }

    private void Answered()
    {
        bool closed;
        lock (_lock)
        {
            closed = _state == BreakerState.Open;
            _state = BreakerState.Closed;
            _failures = 0;
            _cooldown = settings.Cooldown;
            _openedAt = null;
        }

        if (closed)
        {
            Changed?.Invoke(this, BreakerState.Closed);
        }
    }

    private void Failed(FetchStatus status, string reason, bool probe)
    {
        bool opened;
        lock (_lock)
        {
            _lastError = reason;
            if (!probe)
            {
                _lastStatus = status;
            }

            _failures++;
            var now = time.GetUtcNow();
            if (_state == BreakerState.Open)
            {
                // Only a failed probe grows the cool-down; a request that was under way when the breaker opened adds nothing.
                if (probe)
                {
                    _cooldown = _cooldown * 2 < settings.MaxCooldown ? _cooldown * 2 : settings.MaxCooldown;
                    _nextProbe = now + _cooldown;
                }

                return;
            }

            opened = settings.Enabled && _failures >= settings.Failures;
            if (opened)
            {
                _state = BreakerState.Open;
                _openedAt = now;
                _cooldown = settings.Cooldown;
                _nextProbe = now + _cooldown;
                _opened++;
            }
        }

        if (opened)
        {
            Changed?.Invoke(this, BreakerState.Open);
        }
    }
}

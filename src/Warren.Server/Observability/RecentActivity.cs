namespace Warren.Server.Observability;

/// <summary>One minute of traffic: requests counted (not health, readiness, metrics or console pages), store hits and
/// upstream misses, and answers of 400 or more.</summary>
public readonly record struct MinuteSample(DateTimeOffset Start, long Requests, long Hits, long Misses, long Errors);

/// <summary>The last hour of traffic, one bucket per minute in a fixed ring (61 buckets, reused): counting is an
/// interlocked increment, nothing is allocated, and nothing grows. Fed from where requests and cache hits are already
/// counted (<see cref="WarrenMetrics"/>); read by the console's overview.</summary>
public sealed class RecentActivity
{
    /// <summary>Minutes kept.</summary>
    public const int Minutes = 60;

    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly DateTimeOffset _originUtc;
    private readonly long _ticksPerMinute;
    private readonly Bucket[] _ring = new Bucket[Minutes + 1];

    public RecentActivity(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _origin = time.GetTimestamp();
        var now = time.GetUtcNow();
        _originUtc = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
        _ticksPerMinute = time.TimestampFrequency * 60;
        for (var i = 0; i < _ring.Length; i++)
        {
            _ring[i] = new Bucket { Minute = -1 };
        }
    }

    public void Request(bool error)
    {
        var bucket = Current();
        Interlocked.Increment(ref bucket.Requests);
        if (error)
        {
            Interlocked.Increment(ref bucket.Errors);
        }
    }

    public void Hit() => Interlocked.Increment(ref Current().Hits);

    public void Miss() => Interlocked.Increment(ref Current().Misses);

    /// <summary>The last <see cref="Minutes"/> minutes, oldest first, the current (partial) minute last.</summary>
    public IReadOnlyList<MinuteSample> LastHour()
    {
        var now = MinuteNow();
        var samples = new MinuteSample[Minutes];
        for (var i = 0; i < Minutes; i++)
        {
            var minute = now - (Minutes - 1) + i;
            var start = _originUtc.AddMinutes(minute);
            var bucket = _ring[(int)(((minute % _ring.Length) + _ring.Length) % _ring.Length)];
            samples[i] = Volatile.Read(ref bucket.Minute) == minute
                ? new MinuteSample(start, Volatile.Read(ref bucket.Requests), Volatile.Read(ref bucket.Hits), Volatile.Read(ref bucket.Misses), Volatile.Read(ref bucket.Errors))
                : new MinuteSample(start, 0, 0, 0, 0);
        }

        return samples;
    }

    private long MinuteNow() => (_time.GetTimestamp() - _origin) / _ticksPerMinute;

    private Bucket Current()
    {
        var minute = MinuteNow();
        var bucket = _ring[(int)(minute % _ring.Length)];
        if (Volatile.Read(ref bucket.Minute) != minute)
        {
            lock (bucket)
            {
                if (bucket.Minute != minute)
                {
                    bucket.Requests = 0;
                    bucket.Hits = 0;
                    bucket.Misses = 0;
                    bucket.Errors = 0;
                    Volatile.Write(ref bucket.Minute, minute);
                }
            }
        }

        return bucket;
    }

    private sealed class Bucket
    {
        public long Minute;
        public long Requests;
        public long Hits;
        public long Misses;
        public long Errors;
    }
}

/// <summary>An error answered to a client: when, the route, the status, the module (and version) it named, and the
/// one-line reason it was given.</summary>
public sealed record RecentError(DateTimeOffset At, string Route, int Status, string? ModulePath, string? Version, string Reason);

/// <summary>The last errors answered (a fixed ring of <see cref="Capacity"/>), for the console's overview.</summary>
public sealed class RecentErrors(TimeProvider time)
{
    public const int Capacity = 100;

    private readonly RecentError?[] _ring = new RecentError?[Capacity];
    private long _next;

    public void Record(string route, int status, string? modulePath, string? version, string reason)
    {
        var entry = new RecentError(time.GetUtcNow(), route, status, modulePath, version, reason.Length > 500 ? reason[..500] : reason);
        var slot = Interlocked.Increment(ref _next) - 1;
        Volatile.Write(ref _ring[slot % Capacity], entry);
    }

    /// <summary>The newest first, at most max.</summary>
    public IReadOnlyList<RecentError> Latest(int max)
    {
        var end = Volatile.Read(ref _next);
        var list = new List<RecentError>(Math.Min(max, Capacity));
        for (var i = end - 1; i >= 0 && i >= end - Capacity && list.Count < max; i--)
        {
            if (Volatile.Read(ref _ring[i % Capacity]) is { } e)
            {
                list.Add(e);
            }
        }

        return list;
    }
}

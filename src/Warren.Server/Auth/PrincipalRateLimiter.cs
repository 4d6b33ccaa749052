using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;

namespace Warren.Server.Auth;

/// <summary>One token bucket (System.Threading.RateLimiting) per principal, or per client address when anonymous
/// (IPv6 by /64). Bounded: at most <see cref="MaxPartitions"/> buckets; idle full buckets are dropped, and when the
/// table is full new clients share one overflow bucket. One timer replenishes every bucket.</summary>
public sealed class PrincipalRateLimiter : IDisposable
{
    public const int MaxPartitions = 10_000;
    private const string Overflow = "overflow";
    private static readonly TimeSpan IdleLimit = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> _buckets = new(StringComparer.Ordinal);
    private readonly TokenBucketRateLimiterOptions _options;
    private readonly ITimer _timer;

    /// <param name="perSecond">Steady requests per second (positive).</param>
    /// <param name="burst">Bucket size.</param>
    public PrincipalRateLimiter(double perSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentNullException.ThrowIfNull(time);

        // Whole tokens per period: 10 periods a second for rates of 10/s and more, else one token per 1/rate seconds.
        var period = perSecond >= 10 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1 / perSecond);
        var tokens = perSecond >= 10 ? Math.Max(1, (int)Math.Round(perSecond / 10)) : 1;
        _options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = false,
        };
        _timer = time.CreateTimer(_ => Replenish(), null, period, period);
    }

    /// <summary>Number of buckets held.</summary>
    public int Count => _buckets.Count;

    /// <summary>Takes one token; false with the seconds to wait when the partition has none.</summary>
    public bool TryAcquire(string partition, out long retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (!_buckets.TryGetValue(partition, out var bucket))
        {
            bucket = _buckets.Count >= MaxPartitions
                ? _buckets.GetOrAdd(Overflow, _ => new TokenBucketRateLimiter(_options))
                : _buckets.GetOrAdd(partition, _ => new TokenBucketRateLimiter(_options));
        }

        RateLimitLease lease;
        try
        {
            lease = bucket.AttemptAcquire(1);
        }
        catch (ObjectDisposedException)
        {
            // The bucket went idle and was dropped just now: a new, full one takes its place.
            lease = _buckets.GetOrAdd(partition, _ => new TokenBucketRateLimiter(_options)).AttemptAcquire(1);
        }

        using var held = lease;
        if (lease.IsAcquired)
        {
            return true;
        }

        retryAfterSeconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var retry)
            ? Math.Max(1, (long)Math.Ceiling(retry.TotalSeconds))
            : Math.Max(1, (long)Math.Ceiling(_options.ReplenishmentPeriod.TotalSeconds));
        return false;
    }

    /// <summary>The partition of an anonymous client: its address, IPv6 cut to the /64 one host usually owns.</summary>
    public static string PartitionOf(IPAddress? address)
    {
        if (address is null)
        {
            return "ip:unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out _);
            bytes[8..].Clear();
            return "ip:" + new IPAddress(bytes) + "/64";
        }

        return "ip:" + address;
    }

    public void Dispose()
    {
        _timer.Dispose();
        foreach (var bucket in _buckets.Values)
        {
            bucket.Dispose();
        }
    }

    private void Replenish()
    {
        foreach (var (key, bucket) in _buckets)
        {
            bucket.TryReplenish();
            if (bucket.IdleDuration is { } idle && idle > IdleLimit && _buckets.TryRemove(key, out var removed))
            {
                removed.Dispose();
            }
        }
    }
}

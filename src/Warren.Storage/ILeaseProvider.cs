namespace Warren.Storage;

/// <summary>Time-limited exclusive leases on keys, for single-flight work across the nodes that share the storage
/// (one node fetches a module version while the others wait for its result). A lease is held until it is released
/// or expires without being renewed; then another may take it, with a larger fencing token.</summary>
public interface ILeaseProvider
{
    /// <summary>Takes the lease on key for duration when no one holds it (or its holder let it expire); null when
    /// someone else holds it now.</summary>
    Task<ILease?> TryAcquireAsync(string key, TimeSpan duration, CancellationToken ct);
}

/// <summary>A held lease. Disposing releases it (only if it is still this holder's).</summary>
public interface ILease : IAsyncDisposable
{
    string Key { get; }

    /// <summary>A number that grows with every acquisition of any key of the provider: a later holder always has a
    /// larger token, so writes tagged with it can refuse an older holder's.</summary>
    long FencingToken { get; }

    /// <summary>When the lease ends unless renewed, by the provider's clock (for a database provider, the database's).</summary>
    DateTimeOffset ExpiresAt { get; }

    /// <summary>Extends the lease to duration from now; false when it is no longer this holder's (it was taken over
    /// after it expired, or released).</summary>
    Task<bool> RenewAsync(TimeSpan duration, CancellationToken ct);
}

/// <summary>An <see cref="ILeaseProvider"/> for one process (one node), timed by a <see cref="TimeProvider"/>.</summary>
public sealed class InProcessLeaseProvider : ILeaseProvider
{
    private const int SweepAbove = 4096;
    private readonly Dictionary<string, Entry> _held = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private long _lastToken;

    public InProcessLeaseProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
    }

    public Task<ILease?> TryAcquireAsync(string key, TimeSpan duration, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        ct.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_held.TryGetValue(key, out var current) && current.ExpiresAt >= now)
            {
                return Task.FromResult<ILease?>(null);
            }

            if (_held.Count >= SweepAbove)
            {
                // Leases that were never released (their holder died) would otherwise stay forever.
                foreach (var stale in _held.Where(e => e.Value.ExpiresAt < now).Select(e => e.Key).ToList())
                {
                    _held.Remove(stale);
                }
            }

            var entry = new Entry(++_lastToken, now + duration);
            _held[key] = entry;
            return Task.FromResult<ILease?>(new Lease(this, key, entry.Token, entry.ExpiresAt));
        }
    }

    private bool TryRenew(string key, long token, TimeSpan duration, out DateTimeOffset expiresAt)
    {
        lock (_lock)
        {
            expiresAt = default;
            if (!_held.TryGetValue(key, out var current) || current.Token != token)
            {
                return false;
            }

            expiresAt = _time.GetUtcNow() + duration;
            _held[key] = current with { ExpiresAt = expiresAt };
            return true;
        }
    }

    private void Release(string key, long token)
    {
        lock (_lock)
        {
            if (_held.TryGetValue(key, out var current) && current.Token == token)
            {
                _held.Remove(key);
            }
        }
    }

    private readonly record struct Entry(long Token, DateTimeOffset ExpiresAt);

    private sealed class Lease(InProcessLeaseProvider owner, string key, long token, DateTimeOffset expiresAt) : ILease
    {
        private int _released;

        public string Key => key;

        public long FencingToken => token;

        public DateTimeOffset ExpiresAt { get; private set; } = expiresAt;

        public Task<bool> RenewAsync(TimeSpan duration, CancellationToken ct)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
            ct.ThrowIfCancellationRequested();
            if (Volatile.Read(ref _released) != 0 || !owner.TryRenew(key, token, duration, out var until))
            {
                return Task.FromResult(false);
            }

            ExpiresAt = until;
            return Task.FromResult(true);
        }

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(key, token);
            }

            return ValueTask.CompletedTask;
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using Warren.Core.Limits;

namespace Warren.Server.Ingest;

/// <summary>Short-lived memory of "not found from every source", so a storm of misses does not hammer upstream.
/// Bounded by entry count: past it, expired entries and then the least recently used go.</summary>
public sealed class NegativeCache(TimeProvider time, int maxEntries = 100_000)
{
    private readonly BoundedCache<Outcome> _entries = new(maxEntries, time: time);

    public int Count => _entries.Count;

    /// <summary>The remembered outcome of key, while its time to live lasts.</summary>
    public bool TryGet(string key, [NotNullWhen(true)] out Outcome? outcome)
    {
        if (_entries.TryGet(key, out var entry))
        {
            outcome = entry;
            return true;
        }

        outcome = null;
        return false;
    }

    /// <summary>Remembers outcome for ttl (nothing when ttl is not positive).</summary>
    public void Add(string key, Outcome outcome, TimeSpan ttl)
    {
        if (ttl > TimeSpan.Zero)
        {
            _entries.Set(key, outcome, ttl);
        }
    }

    public void Remove(string key) => _entries.Remove(key);
}

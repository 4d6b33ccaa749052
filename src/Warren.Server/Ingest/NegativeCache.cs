using Warren.Core.Limits;

namespace Warren.Server.Ingest;

/// <summary>Short-lived memory of "not found from every source", so a storm of misses does not hammer upstream.
/// Bounded by entry count: past it, expired entries and then the least recently used go.</summary>
public sealed class NegativeCache(TimeProvider time, int maxEntries = 100_000)
{
    private readonly BoundedCache<(int Status, string Reason)> _entries = new(maxEntries, time: time);

    public int Count => _entries.Count;

    public bool TryGet(string key, out int status, out string reason)
    {
        if (_entries.TryGet(key, out var entry))
        {
            (status, reason) = entry;
            return true;
        }

        (status, reason) = (0, "");
        return false;
    }

    public void Add(string key, int status, string reason, TimeSpan ttl)
    {
        if (ttl > TimeSpan.Zero)
        {
            _entries.Set(key, (status, reason), ttl);
        }
    }

    public void Remove(string key) => _entries.Remove(key);
}

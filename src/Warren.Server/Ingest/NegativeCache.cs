using System.Collections.Concurrent;

namespace Warren.Server.Ingest;

/// <summary>Short-lived memory of "not found from every source", so a storm of misses does not hammer upstream.</summary>
public sealed class NegativeCache(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (int Status, string Reason, DateTimeOffset Until)> _entries = new(StringComparer.Ordinal);

    public bool TryGet(string key, out int status, out string reason)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Until > time.GetUtcNow())
            {
                (status, reason) = (entry.Status, entry.Reason);
                return true;
            }

            _entries.TryRemove(new KeyValuePair<string, (int, string, DateTimeOffset)>(key, entry));
        }

        (status, reason) = (0, "");
        return false;
    }

    public void Add(string key, int status, string reason, TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        if (_entries.Count > 100_000)
        {
            var now = time.GetUtcNow();
            foreach (var (k, v) in _entries)
            {
                if (v.Until <= now)
                {
                    _entries.TryRemove(k, out _);
                }
            }
        }

        _entries[key] = (status, reason, time.GetUtcNow() + ttl);
    }

    public void Remove(string key) => _entries.TryRemove(key, out _);
}

using System.Collections.Concurrent;

namespace Warren.Core.Limits;

/// <summary>Counts gathered in memory between two flushes: per key, a count and the latest time seen. At most
/// <see cref="Capacity"/> keys wait; a new key beyond that is refused (the caller counts it as dropped). Lock-free; the
/// batch taken by <see cref="TakeAll"/> holds every count added before it.</summary>
public sealed class PendingCounts<TKey>(int capacity)
    where TKey : notnull
{
    private ConcurrentDictionary<TKey, Entry> _pending = new();

    private sealed class Entry
    {
        public long Count;
        public long LastTicks;
    }

    public int Capacity => capacity;

    /// <summary>Adds count to key's and moves its latest time to ticks when later. False (nothing added) when the key is
    /// new and <see cref="Capacity"/> keys already wait.</summary>
    public bool Add(TKey key, long count, long ticks)
    {
        var pending = _pending;
        if (!pending.TryGetValue(key, out var entry))
        {
            // Full: refused only if the key is still absent (another thread may have added it since the first look).
            if (pending.Count >= capacity && !pending.TryGetValue(key, out entry))
            {
                return false;
            }

            entry ??= pending.GetOrAdd(key, static _ => new Entry());
        }

        long seen;
        while ((seen = Interlocked.Read(ref entry.LastTicks)) < ticks && Interlocked.CompareExchange(ref entry.LastTicks, ticks, seen) != seen)
        {
        }

        if (count != 0)
        {
            Interlocked.Add(ref entry.Count, count);
        }

        return true;
    }

    /// <summary>Every key's count and latest time (UTC ticks) gathered since the last call.</summary>
    public IReadOnlyList<(TKey Key, long Count, long LastTicks)> TakeAll()
    {
        var taken = Interlocked.Exchange(ref _pending, new ConcurrentDictionary<TKey, Entry>());
        return taken.Select(e => (e.Key, Interlocked.Read(ref e.Value.Count), Interlocked.Read(ref e.Value.LastTicks))).ToList();
    }
}

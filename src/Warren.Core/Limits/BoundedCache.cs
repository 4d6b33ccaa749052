using System.Collections.Concurrent;

namespace Warren.Core.Limits;

/// <summary>A thread-safe in-memory cache bounded by entry count and by total size: when either bound is passed, the
/// least recently used entries are dropped until a quarter of the room is free again. Entries may carry an expiry
/// (checked on read; expired entries are dropped first). An evicted, replaced or removed value is handed to the
/// optional onEvicted callback exactly once (e.g. to close a file handle).</summary>
public sealed class BoundedCache<TValue>
{
    private readonly ConcurrentDictionary<string, Entry> _entries;
    private readonly Func<TValue, long> _sizeOf;
    private readonly Action<TValue>? _onEvicted;
    private readonly TimeProvider _time;
    private readonly Lock _evicting = new();
    private long _bytes;
    private long _clock;

    /// <param name="maxCount">At most this many entries.</param>
    /// <param name="maxBytes">At most this total size (as sizeOf counts it).</param>
    /// <param name="sizeOf">The size of one value; null counts each entry as 1.</param>
    /// <param name="onEvicted">Called with each value that leaves the cache.</param>
    public BoundedCache(int maxCount, long maxBytes = long.MaxValue, Func<TValue, long>? sizeOf = null, Action<TValue>? onEvicted = null,
        TimeProvider? time = null, IEqualityComparer<string>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        MaxCount = maxCount;
        MaxBytes = maxBytes;
        _sizeOf = sizeOf ?? (static _ => 1);
        _onEvicted = onEvicted;
        _time = time ?? TimeProvider.System;
        _entries = new ConcurrentDictionary<string, Entry>(comparer ?? StringComparer.Ordinal);
    }

    public int MaxCount { get; }

    public long MaxBytes { get; }

    public int Count => _entries.Count;

    /// <summary>The total size of the entries held.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public bool TryGet(string key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires is { } expires && expires <= _time.GetUtcNow())
            {
                Remove(key, entry);
            }
            else
            {
                entry.LastUse = Interlocked.Increment(ref _clock);
                value = entry.Value;
                return true;
            }
        }

        value = default!;
        return false;
    }

    /// <summary>Adds or replaces the value under key (replacing evicts the old one), then keeps the bounds. A value
    /// larger than the whole size budget is not kept (and is not handed to onEvicted: the caller still owns it).</summary>
    public bool Set(string key, TValue value, TimeSpan? ttl = null)
    {
        var entry = NewEntry(value, ttl);
        if (entry.Size > MaxBytes)
        {
            return false;
        }

        Interlocked.Add(ref _bytes, entry.Size);
        while (true)
        {
            if (_entries.TryGetValue(key, out var old))
            {
                if (_entries.TryUpdate(key, entry, old))
                {
                    Left(old);
                    break;
                }
            }
            else if (_entries.TryAdd(key, entry))
            {
                break;
            }
        }

        Trim();
        return true;
    }

    /// <summary>The value under key if there is one; otherwise value is added. Returns the value the cache holds (or
    /// value itself when it was too large to keep); when that is not value, value was not taken.</summary>
    public TValue GetOrAdd(string key, TValue value, TimeSpan? ttl = null)
    {
        if (TryGet(key, out var existing))
        {
            return existing;
        }

        var entry = NewEntry(value, ttl);
        if (entry.Size > MaxBytes)
        {
            return value;
        }

        var held = _entries.GetOrAdd(key, entry);
        if (!ReferenceEquals(held, entry))
        {
            return held.Value;
        }

        Interlocked.Add(ref _bytes, entry.Size);
        Trim();
        return value;
    }

    public bool Remove(string key)
    {
        if (_entries.TryRemove(key, out var entry))
        {
            Left(entry);
            return true;
        }

        return false;
    }

    /// <summary>Drops every entry.</summary>
    public void Clear()
    {
        foreach (var key in _entries.Keys)
        {
            Remove(key);
        }
    }

    /// <summary>Drops the expired entries.</summary>
    public int RemoveExpired()
    {
        var now = _time.GetUtcNow();
        var removed = 0;
        foreach (var (key, entry) in _entries)
        {
            if (entry.Expires is { } expires && expires <= now && Remove(key, entry))
            {
                removed++;
            }
        }

        return removed;
    }

    private Entry NewEntry(TValue value, TimeSpan? ttl) =>
        new(value, _sizeOf(value), ttl is { } t ? _time.GetUtcNow() + t : null) { LastUse = Interlocked.Increment(ref _clock) };

    private bool Remove(string key, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
        {
            Left(entry);
            return true;
        }

        return false;
    }

    private void Left(Entry entry)
    {
        Interlocked.Add(ref _bytes, -entry.Size);
        _onEvicted?.Invoke(entry.Value);
    }

    private void Trim()
    {
        if (_entries.Count <= MaxCount && Interlocked.Read(ref _bytes) <= MaxBytes)
        {
            return;
        }

        lock (_evicting)
        {
            if (_entries.Count <= MaxCount && Interlocked.Read(ref _bytes) <= MaxBytes)
            {
                return;
            }

            RemoveExpired();
            var countTarget = MaxCount - (MaxCount / 4);
            var bytesTarget = MaxBytes - (MaxBytes / 4);
            if (_entries.Count <= countTarget && Interlocked.Read(ref _bytes) <= bytesTarget)
            {
                return;
            }

            var byAge = _entries.ToArray();
            Array.Sort(byAge, static (a, b) => a.Value.LastUse.CompareTo(b.Value.LastUse));
            foreach (var (key, entry) in byAge)
            {
                if (_entries.Count <= countTarget && Interlocked.Read(ref _bytes) <= bytesTarget)
                {
                    break;
                }

                Remove(key, entry);
            }
        }
    }

    private sealed class Entry(TValue value, long size, DateTimeOffset? expires)
    {
        public TValue Value { get; } = value;

        public long Size { get; } = size;

        public DateTimeOffset? Expires { get; } = expires;

        public long LastUse { get; set; }
    }
}

namespace Warren.Server.ConsoleData;

/// <summary>The last <see cref="Capacity"/> items added, oldest dropped first; safe for many writers and readers. Adding
/// costs a lock held for an array store: it sits beside the audit log lines, never on a path that does not log.</summary>
public sealed class BoundedRing<T>
{
    private readonly T[] _items;
    private readonly Lock _gate = new();
    private long _added;

    public BoundedRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new T[capacity];
    }

    public int Capacity => _items.Length;

    /// <summary>Items added since start (dropped ones included).</summary>
    public long Added => Interlocked.Read(ref _added);

    public void Add(T item)
    {
        lock (_gate)
        {
            _items[(int)(_added % _items.Length)] = item;
            _added++;
        }
    }

    /// <summary>The items held, newest first.</summary>
    public IReadOnlyList<T> Snapshot()
    {
        lock (_gate)
        {
            var count = (int)Math.Min(_added, _items.Length);
            var result = new T[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = _items[(int)((_added - 1 - i) % _items.Length)];
            }

            return result;
        }
    }
}

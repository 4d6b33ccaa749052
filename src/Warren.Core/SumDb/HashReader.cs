namespace Warren.Core.SumDb;

/// <summary>Reads stored hashes of a log's tree by stored hash index (tlog.HashReader); see
/// <see cref="Tlog.StoredHashIndex"/>.</summary>
public interface IHashReader
{
    /// <summary>The hashes at the given stored hash indexes, one for each index and in the same order. Callers in this
    /// library always ask for indexes in increasing order.</summary>
    ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default);
}

/// <summary>A log's stored hashes held in memory, in stored hash index order: what a small server appends to and
/// reads tiles and proofs from.</summary>
public sealed class MemoryHashStore : IHashReader
{
    private readonly List<LogHash> _hashes = [];

    public MemoryHashStore()
    {
    }

    public MemoryHashStore(IEnumerable<LogHash> hashes)
    {
        _hashes.AddRange(hashes);
    }

    /// <summary>How many hashes are stored (<see cref="Tlog.StoredHashCount"/> of the record count).</summary>
    public long Count => _hashes.Count;

    /// <summary>The hash at a stored hash index.</summary>
    public LogHash this[long index] => _hashes[checked((int)index)];

    /// <summary>Appends the hashes <see cref="Tlog.StoredHashesAsync(long, ReadOnlyMemory{byte}, IHashReader, CancellationToken)"/>
    /// returned for the next record.</summary>
    public void Append(IEnumerable<LogHash> hashes) => _hashes.AddRange(hashes);

    /// <summary>Appends a record with the given data and returns its record id.</summary>
    public long AppendRecord(ReadOnlySpan<byte> data)
    {
        long id = RecordCount;
        var stored = Tlog.StoredHashesForRecordHashAsync(id, Tlog.RecordHash(data), this);
        Append(stored.IsCompletedSuccessfully ? stored.Result : stored.AsTask().GetAwaiter().GetResult());
        return id;
    }

    /// <summary>The number of records whose hashes are stored.</summary>
    public long RecordCount
    {
        get
        {
            // StoredHashCount is increasing; find n with StoredHashCount(n) == Count.
            long n = _hashes.Count / 2;
            while (Tlog.StoredHashCount(n) > _hashes.Count)
            {
                n--;
            }

            while (Tlog.StoredHashCount(n + 1) <= _hashes.Count)
            {
                n++;
            }

            return n;
        }
    }

    public ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        var result = new LogHash[indexes.Count];
        for (int i = 0; i < result.Length; i++)
        {
            long index = indexes[i];
            if (index < 0 || index >= _hashes.Count)
            {
                return ValueTask.FromException<IReadOnlyList<LogHash>>(
                    new TlogException($"stored hash index {index} is not stored (have {_hashes.Count})"));
            }

            result[i] = _hashes[(int)index];
        }

        return ValueTask.FromResult<IReadOnlyList<LogHash>>(result);
    }
}

using Warren.Core.SumDb;
using Warren.Storage;

namespace Warren.Testing.Storage;

/// <summary>An <see cref="IHostedLogStorage"/> in memory: the reference implementation of the contract, thread-safe,
/// for tests. Appends are all-or-nothing under one lock and succeed only at the expected size; every value handed in
/// or out is copied. An append at the expected size with the wrong number of stored hashes is an ArgumentException.</summary>
public sealed class MemoryHostedLogStorage : IHostedLogStorage
{
    private readonly Lock _lock = new();
    private readonly List<byte[]> _records = [];
    private readonly List<LogHash> _hashes = [];
    private readonly Dictionary<(string ModulePath, string Version), long> _ids = [];
    private HostedLogState? _state;

    /// <summary>How many appends succeeded (including those of a head alone).</summary>
    public int AppendCount { get; private set; }

    /// <summary>How many appends were refused because the log had another size.</summary>
    public int RefusedCount { get; private set; }

    public Task<HostedLogState?> ReadStateAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return Task.FromResult(_state is { } s ? new HostedLogState(s.Size, (byte[])s.SignedHead.Clone()) : null);
        }
    }

    public Task<IReadOnlyList<byte[]>> ReadRecordsAsync(long first, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (first < 0 || count < 0 || first + count > _records.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(first), $"records {first}..{first + count - 1} are not all in the log of size {_records.Count}");
            }

            return Task.FromResult<IReadOnlyList<byte[]>>(_records.GetRange((int)first, count).Select(r => (byte[])r.Clone()).ToArray());
        }
    }

    public Task<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> storageIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storageIndexes);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var result = new LogHash[storageIndexes.Count];
            for (int i = 0; i < result.Length; i++)
            {
                long x = storageIndexes[i];
                if (x < 0 || x >= _hashes.Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(storageIndexes), $"stored hash index {x} is not in the log (have {_hashes.Count})");
                }

                result[i] = _hashes[(int)x];
            }

            return Task.FromResult<IReadOnlyList<LogHash>>(result);
        }
    }

    public Task<long?> FindAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return Task.FromResult<long?>(_ids.TryGetValue((modulePath, version), out long id) ? id : null);
        }
    }

    public Task<bool> TryAppendAsync(long expectedSize, IReadOnlyList<HostedLogEntry> entries, IReadOnlyList<LogHash> hashes, byte[] signedHead,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(signedHead);
        cancellationToken.ThrowIfCancellationRequested();
        long newSize = expectedSize + entries.Count;
        lock (_lock)
        {
            // The size is checked first: an append prepared for another size is refused, not an error.
            if (_records.Count != expectedSize)
            {
                RefusedCount++;
                return Task.FromResult(false);
            }

            if (hashes.Count != Tlog.StoredHashCount(newSize) - Tlog.StoredHashCount(expectedSize))
            {
                throw new ArgumentException($"{hashes.Count} stored hashes for records {expectedSize}..{newSize - 1}", nameof(hashes));
            }

            for (int i = 0; i < entries.Count; i++)
            {
                _records.Add((byte[])entries[i].Text.Clone());
                _ids.TryAdd((entries[i].ModulePath, entries[i].Version), expectedSize + i);
            }

            _hashes.AddRange(hashes);
            _state = new HostedLogState(newSize, (byte[])signedHead.Clone());
            AppendCount++;
            return Task.FromResult(true);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

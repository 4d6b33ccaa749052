using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Warren.Core.SumDb;

namespace Warren.Server.SumDb;

/// <summary>A hosted checksum database log kept in files of one directory, for one process (the single-node
/// storage of <see cref="HostedLog"/>).</summary>
/// <remarks>
/// <para>Files in the log directory:</para>
/// <list type="bullet">
/// <item><description><c>records.dat</c>: the record texts, concatenated.</description></item>
/// <item><description><c>records.idx</c>: one 8-byte little-endian end offset in records.dat per record, so record i is
/// the bytes [idx[i−1], idx[i]) (idx[−1] = 0).</description></item>
/// <item><description><c>hashes.dat</c>: the log's stored hashes in <see cref="Tlog.StoredHashIndex"/> order, 32 bytes
/// each: <see cref="Tlog.StoredHashCount"/>(size) of them.</description></item>
/// <item><description><c>head</c>: the latest signed tree note, the commit point (its tree size is the log's size). It
/// is replaced atomically (written to <c>head.tmp</c>, synced, renamed, directory synced) and only after the data it
/// covers is durably written.</description></item>
/// <item><description><c>lock</c>: held open exclusively while the storage is open, so that one process writes.</description></item>
/// </list>
/// <para>A crash can leave bytes beyond the committed size in the data files, and a <c>head.tmp</c>; opening removes
/// both. Data files shorter than the head says, stored hashes whose tree hash is not the head's, or a last record that
/// does not match its leaf hash are corruption, reported as <see cref="InvalidDataException"/>. The signature of the
/// head is the caller's to check. In memory the storage keeps a map from "path@version" to record id.</para>
/// <para>Heads given to <see cref="TryAppendAsync"/> must be tree notes whose size is the new record count (the file
/// format has no other place for the size). A failure while replacing the head faults the storage: every later append
/// fails until it is reopened, since only reopening can tell what is committed; reads go on serving the last state
/// known to be committed.</para>
/// </remarks>
public sealed class FileHostedLogStorage : IHostedLogStorage
{
    private readonly HostedLogFiles _files;
    private readonly ConcurrentDictionary<string, long> _ids;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private volatile Committed? _committed;
    private Exception? _fault;
    private int _disposed;

    private FileHostedLogStorage(HostedLogFiles files, Committed? committed, ConcurrentDictionary<string, long> ids)
    {
        _files = files;
        _committed = committed;
        _ids = ids;
    }

    /// <summary>The log directory (full path).</summary>
    public string Directory => _files.Directory;

    /// <summary>Opens (creating if needed) the log in directory and takes its lock, an exclusive lock on directory/lock
    /// held until the storage is disposed. Drops whatever an interrupted commit left beyond the committed size.</summary>
    /// <param name="directory">The log directory.</param>
    /// <param name="fsync">Sync data, head and directory to disk before an append completes (survives power loss, not
    /// only a killed process).</param>
    /// <exception cref="IOException">Another process holds the lock ("checksum database log DIR is in use by another
    /// process"), or the files cannot be read or written.</exception>
    /// <exception cref="InvalidDataException">The log is corrupt: the head is not a tree note, the data files are
    /// shorter than it says or do not hash to it, or there are records without a head.</exception>
    public static FileHostedLogStorage Open(string directory, bool fsync = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var files = HostedLogFiles.Open(directory, fsync);
        try
        {
            var committed = Recover(files);
            var ids = LoadIds(files, committed);
            return new FileHostedLogStorage(files, committed, ids);
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    /// <summary>The tree size and hash of a signed tree note, without checking its signature; null when it is not one.</summary>
    internal static TreeHead? ParseUnverified(ReadOnlySpan<byte> signedHead)
    {
        int end = signedHead.IndexOf("\n\n"u8);
        if (end < 0)
        {
            return null;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(signedHead[..(end + 1)]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        return TreeHead.TryParse(text, out var tree) ? tree : null;
    }

    /// <inheritdoc/>
    public Task<HostedLogState?> ReadStateAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return Task.FromResult(_committed is { } c ? new HostedLogState(c.Size, (byte[])c.SignedHead.Clone()) : null);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<byte[]>> ReadRecordsAsync(long first, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        long size = _committed?.Size ?? 0;
        if (first < 0 || count < 0 || first + count > size)
        {
            throw new ArgumentOutOfRangeException(nameof(first), $"records {first}..{first + count - 1} are not all in the log of size {size}");
        }

        return Task.FromResult<IReadOnlyList<byte[]>>(_files.ReadRecords(first, count));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> storageIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storageIndexes);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return Task.FromResult<IReadOnlyList<LogHash>>(_files.ReadHashes(storageIndexes, _committed?.HashCount ?? 0));
    }

    /// <inheritdoc/>
    public Task<long?> FindAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();

        // The map runs ahead of the committed state while an append publishes it.
        long size = _committed?.Size ?? 0;
        return Task.FromResult<long?>(_ids.TryGetValue(Key(modulePath, version), out long id) && id < size ? id : null);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The hashes are not as many as the entries add, or the head is not a tree
    /// note of the new size.</exception>
    /// <exception cref="IOException">Writing failed (after a failure while replacing the head the storage is faulted).</exception>
    public async Task<bool> TryAppendAsync(long expectedSize, IReadOnlyList<HostedLogEntry> entries, IReadOnlyList<LogHash> hashes, byte[] signedHead,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(signedHead);
        long newSize = expectedSize + entries.Count;
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            if (_fault is { } fault)
            {
                throw Faulted(fault);
            }

            var committed = _committed;
            if ((committed?.Size ?? 0) != expectedSize)
            {
                return false;
            }

            if (hashes.Count != Tlog.StoredHashCount(newSize) - Tlog.StoredHashCount(expectedSize))
            {
                throw new ArgumentException($"{hashes.Count} stored hashes for records {expectedSize}..{newSize - 1}", nameof(hashes));
            }

            if (ParseUnverified(signedHead) is not { } tree || tree.Size != newSize)
            {
                throw new ArgumentException($"the signed head is not a tree note of size {newSize}", nameof(signedHead));
            }

            long recordsLength = committed?.RecordsLength ?? 0;
            long end = recordsLength;
            var records = new byte[entries.Sum(e => e.Text.Length)];
            var index = new byte[entries.Count * HostedLogFiles.OffsetSize];
            int at = 0;
            for (int i = 0; i < entries.Count; i++)
            {
                var text = entries[i].Text;
                if (text.Length is 0 or > HostedLogFiles.MaxRecordBytes)
                {
                    throw new ArgumentException($"record {expectedSize + i} has {text.Length} bytes", nameof(entries));
                }

                text.CopyTo(records, at);
                at += text.Length;
                end += text.Length;
                BinaryPrimitives.WriteInt64LittleEndian(index.AsSpan(i * HostedLogFiles.OffsetSize), end);
            }

            var hashBytes = new byte[hashes.Count * LogHash.Size];
            for (int i = 0; i < hashes.Count; i++)
            {
                hashes[i].CopyTo(hashBytes.AsSpan(i * LogHash.Size));
            }

            // Bytes written past the committed size are harmless until the head covers them: the next append
            // overwrites them, and opening drops them.
            long hashCount = Tlog.StoredHashCount(expectedSize);
            _files.Append(recordsLength, records, expectedSize * HostedLogFiles.OffsetSize, index, hashCount * LogHash.Size, hashBytes);
            var head = (byte[])signedHead.Clone();
            try
            {
                _files.WriteHead(head);
            }
            catch (Exception e)
            {
                // The rename may or may not have happened (or be durable): only reopening can tell.
                _fault = e;
                throw Faulted(e);
            }

            for (int i = 0; i < entries.Count; i++)
            {
                _ids.TryAdd(Key(entries[i].ModulePath, entries[i].Version), expectedSize + i);
            }

            _committed = new Committed(newSize, end, head);
            return true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Closes the files and releases the lock (after an append under way).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _files.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    internal static string Key(string modulePath, string version) => modulePath + "@" + version;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private IOException Faulted(Exception cause) =>
        new($"checksum database log {_files.Directory} failed to replace its signed tree head and must be reopened: {cause.Message}", cause);

    /// <summary>Reads the head, cuts the data files to the size it commits, and checks the stored hashes against it.</summary>
    private static Committed? Recover(HostedLogFiles files)
    {
        string dir = files.Directory;
        var signedHead = files.ReadHead();
        if (signedHead is null)
        {
            if (files.RecordsLength > 0 || files.IndexLength > 0 || files.HashesLength > 0)
            {
                throw new InvalidDataException($"checksum database log {dir} has data but no signed tree head ({HostedLogFiles.HeadName})");
            }

            return null;
        }

        if (ParseUnverified(signedHead) is not { } tree)
        {
            throw files.Corrupt(HostedLogFiles.HeadName, "not a signed tree note");
        }

        long size = tree.Size;
        long indexLength = checked(size * HostedLogFiles.OffsetSize);
        long hashesLength = checked(Tlog.StoredHashCount(size) * LogHash.Size);
        if (files.IndexLength < indexLength)
        {
            throw files.Corrupt(HostedLogFiles.IndexName, $"{files.IndexLength} bytes, but the signed tree head has {size} records ({indexLength} bytes)");
        }

        if (files.HashesLength < hashesLength)
        {
            throw files.Corrupt(HostedLogFiles.HashesName, $"{files.HashesLength} bytes, but the signed tree head has {size} records ({hashesLength} bytes)");
        }

        long recordsLength = size == 0 ? 0 : files.ReadEndOffset(size - 1);
        if (recordsLength < 0 || files.RecordsLength < recordsLength)
        {
            throw files.Corrupt(HostedLogFiles.RecordsName, $"{files.RecordsLength} bytes, but the index says its {size} records end at {recordsLength}");
        }

        files.Truncate(recordsLength, indexLength, hashesLength);

        var computed = Complete(Tlog.TreeHashAsync(size, new FileHashReader(files, hashesLength / LogHash.Size)));
        if (computed != tree.Hash)
        {
            throw files.Corrupt(HostedLogFiles.HashesName, $"its tree hash for size {size} is {computed}, but the signed tree head has {tree.Hash}");
        }

        return new Committed(size, recordsLength, signedHead);
    }

    /// <summary>Builds the "path@version" → id map from the committed records, checking the last record against its
    /// stored leaf hash.</summary>
    private static ConcurrentDictionary<string, long> LoadIds(HostedLogFiles files, Committed? committed)
    {
        long size = committed?.Size ?? 0;
        var ids = new ConcurrentDictionary<string, long>(concurrencyLevel: Environment.ProcessorCount, capacity: (int)Math.Min(size, 1 << 24), StringComparer.Ordinal);
        LogHash lastHash = default;
        files.ScanRecords(size, (id, text) =>
        {
            if (HostedLog.ParseRecordKey(text) is not { } key)
            {
                throw files.Corrupt(HostedLogFiles.RecordsName, $"record {id} is not a go.sum record");
            }

            ids.TryAdd(Key(key.ModulePath, key.Version), id);
            if (id == size - 1)
            {
                lastHash = Tlog.RecordHash(text);
            }
        });

        if (size > 0)
        {
            var stored = files.ReadHashes([Tlog.StoredHashIndex(0, size - 1)], committed!.HashCount)[0];
            if (stored != lastHash)
            {
                throw files.Corrupt(HostedLogFiles.RecordsName, $"record {size - 1} does not match its hash in {HostedLogFiles.HashesName}");
            }
        }

        return ids;
    }

    private static T Complete<T>(ValueTask<T> task) =>
        task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    /// <summary>The committed log: published as one object, so a reader sees a size and the head signing it.</summary>
    private sealed class Committed(long size, long recordsLength, byte[] signedHead)
    {
        public long Size { get; } = size;

        /// <summary>The committed length of records.dat.</summary>
        public long RecordsLength { get; } = recordsLength;

        /// <summary>The committed number of stored hashes.</summary>
        public long HashCount { get; } = Tlog.StoredHashCount(size);

        public byte[] SignedHead { get; } = signedHead;
    }

    /// <summary>Stored hashes read from hashes.dat, below a limit.</summary>
    private sealed class FileHashReader(HostedLogFiles files, long count) : IHashReader
    {
        public ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(indexes);
            return ValueTask.FromResult<IReadOnlyList<LogHash>>(files.ReadHashes(indexes, count));
        }
    }
}

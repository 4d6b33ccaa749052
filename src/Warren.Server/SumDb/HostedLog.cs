using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Warren.Core.Modules;
using Warren.Core.SumDb;

namespace Warren.Server.SumDb;

/// <summary>What <see cref="HostedLog.AppendAsync"/> did.</summary>
public enum HostedAppendStatus
{
    /// <summary>The record was appended and is committed under a new signed tree head.</summary>
    Added,

    /// <summary>The module version was already logged with the same hashes; nothing was written.</summary>
    AlreadyPresent,

    /// <summary>The module version was already logged with different hashes; nothing was written (records are never
    /// rewritten).</summary>
    Conflict,
}

/// <summary>The outcome of an append: the status, the id of the module version's record, and for
/// <see cref="HostedAppendStatus.AlreadyPresent"/> and <see cref="HostedAppendStatus.Conflict"/> the hashes the log
/// holds (null for <see cref="HostedAppendStatus.Added"/>).</summary>
public sealed record HostedAppendResult(HostedAppendStatus Status, long RecordId, string? ExistingZipHash, string? ExistingGoModHash);

/// <summary>A checksum database's log kept on disk (what golang.org/x/mod/sumdb's server serves from): go.sum records
/// appended by one writer, committed under tree heads signed with the server's key, and read back as lookups and
/// tiles.</summary>
/// <remarks>
/// <para>Files in the log directory:</para>
/// <list type="bullet">
/// <item><description><c>records.dat</c>: the record texts, concatenated.</description></item>
/// <item><description><c>records.idx</c>: one 8-byte little-endian end offset in records.dat per record, so record i is
/// the bytes [idx[i−1], idx[i]) (idx[−1] = 0).</description></item>
/// <item><description><c>hashes.dat</c>: the log's stored hashes in <see cref="Tlog.StoredHashIndex"/> order, 32 bytes
/// each: <see cref="Tlog.StoredHashCount"/>(size) of them.</description></item>
/// <item><description><c>head</c>: the latest signed tree note, the commit point. It is replaced atomically (written to
/// <c>head.tmp</c>, synced, renamed, directory synced) and only after the data it covers is durably written.</description></item>
/// <item><description><c>lock</c>: held open exclusively while the log is open, so that one process writes.</description></item>
/// </list>
/// <para>A crash can leave bytes beyond the committed size in the data files, and a <c>head.tmp</c>; opening the log
/// removes both. Data files shorter than the head says, a head not signed by the log's key, or stored hashes whose
/// tree hash is not the head's are corruption, reported as <see cref="InvalidDataException"/>.</para>
/// <para>Appends are group-committed: one writer loop takes every pending append, writes the new records, index
/// entries and hashes, syncs them, signs one new tree head for all of them and replaces the head, then completes the
/// callers. Readers are safe concurrently with it and see one committed tree (size and signed head together); they
/// never read beyond it. In memory the log keeps only a map from "path@version" to record id.</para>
/// </remarks>
public sealed class HostedLog : IAsyncDisposable, IDisposable
{
    // Bounds the memory one commit takes.
    private const int MaxBatch = 4096;

    private readonly HostedLogFiles _files;
    private readonly NoteSigner _signer;
    private readonly int _tileHeight;
    private readonly ConcurrentDictionary<string, long> _ids;
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private volatile Snapshot _snapshot;
    private Exception? _fault;
    private int _disposed;

    private HostedLog(HostedLogFiles files, NoteSigner signer, int tileHeight, Snapshot snapshot, ConcurrentDictionary<string, long> ids)
    {
        _files = files;
        _signer = signer;
        _tileHeight = tileHeight;
        _snapshot = snapshot;
        _ids = ids;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The log's name: the signer's (the server name in its key).</summary>
    public string Name => _signer.Name;

    /// <summary>The number of committed records.</summary>
    public long Size => _snapshot.Size;

    /// <summary>The latest signed tree note, "go.sum database tree\nN\nHASH\n\n— NAME sig\n" (a copy).</summary>
    public byte[] SignedTreeHead => (byte[])_snapshot.SignedHead.Clone();

    /// <summary>The tile height the log serves.</summary>
    public int TileHeight => _tileHeight;

    /// <summary>Opens (creating if needed) the log in directory and takes the single-writer lock, an exclusive lock on
    /// directory/lock held until the log is disposed. Drops whatever an interrupted commit left beyond the committed
    /// size; a new log starts with a signed head of size 0 (the all-zero tree hash).</summary>
    /// <param name="directory">The log directory.</param>
    /// <param name="signer">The server's key, which signs every tree head (and must have signed the existing one).</param>
    /// <param name="fsync">Sync data, head and directory to disk before a commit completes (survives power loss, not
    /// only a killed process).</param>
    /// <param name="tileHeight">The height of the tiles <see cref="ReadTileAsync"/> serves (8 for the go command).</param>
    /// <exception cref="IOException">Another process holds the lock ("checksum database log DIR is in use by another
    /// process"), or the files cannot be read or written.</exception>
    /// <exception cref="InvalidDataException">The log is corrupt: the head does not verify, the data files are shorter
    /// than it says or do not hash to it, or there are records without a head.</exception>
    public static HostedLog Open(string directory, NoteSigner signer, bool fsync = true, int tileHeight = SumDbProtocol.DefaultTileHeight)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileHeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tileHeight, Tile.MaxHeight);

        var files = HostedLogFiles.Open(directory, fsync);
        try
        {
            var snapshot = Recover(files, signer);
            var ids = LoadIds(files, snapshot);
            return new HostedLog(files, signer, tileHeight, snapshot, ids);
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    /// <summary>Looks up the committed record of modulePath@version (a "/go.mod" suffix on the version is ignored:
    /// one record holds both lines).</summary>
    /// <returns>Whether it is logged; if so its id and text.</returns>
    public bool TryLookup(string modulePath, string version, out long recordId, out byte[] recordText)
    {
        var snapshot = _snapshot;
        if (!TryFind(snapshot, modulePath, version, out recordId))
        {
            recordText = [];
            return false;
        }

        recordText = _files.ReadRecords(recordId, 1)[0];
        return true;
    }

    /// <summary>The body of the /lookup response for modulePath@version
    /// (<see cref="SumDbProtocol.FormatLookupResponse"/> of the record and the signed tree head it is committed
    /// under), or null when it is not logged.</summary>
    public byte[]? LookupResponse(string modulePath, string version)
    {
        var snapshot = _snapshot;
        if (!TryFind(snapshot, modulePath, version, out long id))
        {
            return null;
        }

        var text = _files.ReadRecords(id, 1)[0];
        return SumDbProtocol.FormatLookupResponse(id, text, snapshot.SignedHead);
    }

    /// <summary>Appends the record "path version zipHash\npath version/go.mod goModHash\n"
    /// (<see cref="GoSumRecord.FormatBytes"/>) unless modulePath@version is already logged: then the result is
    /// <see cref="HostedAppendStatus.AlreadyPresent"/> (same hashes) or <see cref="HostedAppendStatus.Conflict"/>
    /// (different hashes), and nothing is written.</summary>
    /// <remarks>Concurrent appends are committed together under one new signed tree head. When this completes with
    /// <see cref="HostedAppendStatus.Added"/>, the record is durable and visible to lookups and tiles. Cancelling
    /// abandons the wait: an append the writer has already taken may still be committed.</remarks>
    /// <exception cref="ArgumentException">The module path, version or a hash is malformed.</exception>
    /// <exception cref="IOException">Writing the commit failed (after a failure past the point of no return, every
    /// later append fails too until the log is reopened).</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    public Task<HostedAppendResult> AppendAsync(string modulePath, string version, string zipHash, string goModHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);
        if (ModulePath.CheckPath(modulePath) is { } reason)
        {
            throw new ArgumentException(ModulePath.FormatInvalidPath("module", modulePath, reason), nameof(modulePath));
        }

        if (!SemVer.IsValid(version) || !ModulePath.TryEscapeVersion(version, out _, out _))
        {
            throw new ArgumentException($"invalid version \"{version}\"", nameof(version));
        }

        var text = GoSumRecord.FormatBytes(modulePath, version, zipHash, goModHash);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<HostedAppendResult>(cancellationToken);
        }

        // Already committed: answer without the writer.
        var snapshot = _snapshot;
        if (TryFind(snapshot, modulePath, version, out long id))
        {
            return Task.FromResult(Compare(id, ReadHashes(id, modulePath, version), zipHash, goModHash));
        }

        var pending = new PendingAppend(Key(modulePath, version), modulePath, version, zipHash, goModHash, text, cancellationToken);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(GetType().FullName);
        }

        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The body of a tile of the committed tree, or null when the tree does not contain it.</summary>
    /// <remarks>Hash tiles (Level ≥ 0) hold Width·32 bytes of hashes; data tiles (Level −1) hold Width records as
    /// <see cref="SumDbProtocol.FormatDataTile"/> writes them. A partial tile of width W exists once the tree has at
    /// least W entries at that level in that tile, and is still answered (with the first W entries) once the tile is
    /// full, as sum.golang.org does. A tile of another height than <see cref="TileHeight"/> does not exist.</remarks>
    public ValueTask<byte[]?> ReadTileAsync(Tile tile, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var snapshot = _snapshot;
        if (tile.Height != _tileHeight || tile.Level < -1 || tile.Level > 63 || tile.Width < 1 || tile.Width > 1 << tile.Height || tile.Number < 0)
        {
            return ValueTask.FromResult<byte[]?>(null);
        }

        int shift = tile.IsData ? 0 : tile.Level * tile.Height;
        if (shift >= 63 || tile.Number > (long.MaxValue >> tile.Height) - 1)
        {
            return ValueTask.FromResult<byte[]?>(null);
        }

        long first = tile.Number << tile.Height;
        if (first + tile.Width > snapshot.Size >> shift)
        {
            return ValueTask.FromResult<byte[]?>(null);
        }

        if (tile.IsData)
        {
            return ValueTask.FromResult<byte[]?>(SumDbProtocol.FormatDataTile(tile, _files.ReadRecords(first, tile.Width)));
        }

        return ReadHashTileAsync(tile, snapshot, cancellationToken);
    }

    /// <summary>Waits for the appends already queued to finish, then closes the files and releases the lock.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        _writer.GetAwaiter().GetResult();
        _files.Dispose();
    }

    /// <summary>As <see cref="Dispose"/>, waiting asynchronously.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _files.Dispose();
    }

    private static string Key(string modulePath, string version) => modulePath + "@" + version;

    private static string StripGoMod(string version) =>
        version.EndsWith(GoSumLine.GoModSuffix, StringComparison.Ordinal) ? version[..^GoSumLine.GoModSuffix.Length] : version;

    private bool TryFind(Snapshot snapshot, string modulePath, string version, out long id)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);

        // The map can run ahead of the snapshot taken (the writer fills it in before publishing the next one).
        return _ids.TryGetValue(Key(modulePath, StripGoMod(version)), out id) && id < snapshot.Size;
    }

    private async ValueTask<byte[]?> ReadHashTileAsync(Tile tile, Snapshot snapshot, CancellationToken cancellationToken) =>
        await Tile.ReadDataAsync(tile, new CommittedHashReader(_files, snapshot.HashCount), cancellationToken).ConfigureAwait(false);

    /// <summary>The hashes record id holds for modulePath@version: (zip hash, go.mod hash).</summary>
    private (string? Zip, string? GoMod) ReadHashes(long id, string modulePath, string version)
    {
        var text = Encoding.UTF8.GetString(_files.ReadRecords(id, 1)[0]);
        string? zip = null;
        string? goMod = null;
        foreach (var line in GoSumRecord.Parse(text))
        {
            if (line.Path != modulePath)
            {
                continue;
            }

            if (line.Version == version)
            {
                zip ??= line.Hash;
            }
            else if (line.Version == version + GoSumLine.GoModSuffix)
            {
                goMod ??= line.Hash;
            }
        }

        return (zip, goMod);
    }

    private static HostedAppendResult Compare(long id, (string? Zip, string? GoMod) existing, string zipHash, string goModHash)
    {
        bool same = existing.Zip == zipHash && existing.GoMod == goModHash;
        return new HostedAppendResult(same ? HostedAppendStatus.AlreadyPresent : HostedAppendStatus.Conflict, id, existing.Zip, existing.GoMod);
    }

    /// <summary>Reads and checks the head, cuts the data files to the size it commits, and checks the stored hashes
    /// against it. Writes the size-0 head of a new log.</summary>
    private static Snapshot Recover(HostedLogFiles files, NoteSigner signer)
    {
        string dir = files.Directory;
        var signedHead = files.ReadHead();
        TreeHead tree;
        if (signedHead is null)
        {
            if (files.RecordsLength > 0 || files.IndexLength > 0 || files.HashesLength > 0)
            {
                throw new InvalidDataException($"checksum database log {dir} has data but no signed tree head ({HostedLogFiles.HeadName})");
            }

            tree = new TreeHead(0, LogHash.Zero);
            signedHead = tree.Sign(signer);
            files.WriteHead(signedHead);
            return new Snapshot(0, 0, signedHead);
        }

        try
        {
            tree = TreeHead.OpenSigned(signedHead, new NoteVerifierList(NoteVerifier.Parse(signer.VerifierKey)));
        }
        catch (Exception e) when (e is NoteException or FormatException)
        {
            throw new InvalidDataException(
                $"checksum database log {dir}: {HostedLogFiles.HeadName} is not a tree head signed by {signer.Name}+{signer.KeyHash:x8}: {e.Message}", e);
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

        var reader = new CommittedHashReader(files, hashesLength / LogHash.Size);
        var computed = Complete(Tlog.TreeHashAsync(size, reader));
        if (computed != tree.Hash)
        {
            throw files.Corrupt(HostedLogFiles.HashesName, $"its tree hash for size {size} is {computed}, but the signed tree head has {tree.Hash}");
        }

        return new Snapshot(size, recordsLength, signedHead);
    }

    /// <summary>Builds the "path@version" → id map from the committed records, checking the last record against its
    /// stored leaf hash.</summary>
    private static ConcurrentDictionary<string, long> LoadIds(HostedLogFiles files, Snapshot snapshot)
    {
        var ids = new ConcurrentDictionary<string, long>(concurrencyLevel: Environment.ProcessorCount, capacity: (int)Math.Min(snapshot.Size, 1 << 24), StringComparer.Ordinal);
        LogHash lastHash = default;
        files.ScanRecords(snapshot.Size, (id, text) =>
        {
            int nl = text.IndexOf((byte)'\n');
            var fields = nl < 0 ? [] : Encoding.UTF8.GetString(text[..nl]).Split(' ');
            if (fields.Length != 3 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw files.Corrupt(HostedLogFiles.RecordsName, $"record {id} is not a go.sum record");
            }

            ids.TryAdd(Key(fields[0], StripGoMod(fields[1])), id);
            if (id == snapshot.Size - 1)
            {
                lastHash = Tlog.RecordHash(text);
            }
        });

        if (snapshot.Size > 0)
        {
            var stored = files.ReadHashes([Tlog.StoredHashIndex(0, snapshot.Size - 1)], snapshot.HashCount)[0];
            if (stored != lastHash)
            {
                throw files.Corrupt(HostedLogFiles.RecordsName, $"record {snapshot.Size - 1} does not match its hash in {HostedLogFiles.HashesName}");
            }
        }

        return ids;
    }

    private static T Complete<T>(ValueTask<T> task) =>
        task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingAppend>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            try
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // A bug or an unexpected failure: no caller may be left waiting (completed ones stay as they are).
                foreach (var append in batch)
                {
                    append.Completion.TrySetException(e);
                }
            }
        }
    }

    /// <summary>Commits one batch: settles duplicates, appends the new records under one new signed head, completes
    /// every caller. Failures complete the callers they concern.</summary>
    private async Task CommitAsync(List<PendingAppend> batch)
    {
        var snapshot = _snapshot;
        var added = new List<PendingAppend>();
        var waiting = new List<(PendingAppend Append, PendingAppend Original)>(); // duplicates of an append in this batch
        var byKey = new Dictionary<string, PendingAppend>(StringComparer.Ordinal);
        foreach (var append in batch)
        {
            if (append.CancellationToken.IsCancellationRequested)
            {
                append.Completion.TrySetCanceled(append.CancellationToken);
                continue;
            }

            try
            {
                if (byKey.TryGetValue(append.Key, out var original))
                {
                    waiting.Add((append, original));
                }
                else if (_ids.TryGetValue(append.Key, out long id))
                {
                    append.Completion.TrySetResult(Compare(id, ReadHashes(id, append.ModulePath, append.Version), append.ZipHash, append.GoModHash));
                }
                else if (_fault is { } fault)
                {
                    append.Completion.TrySetException(Faulted(fault));
                }
                else
                {
                    append.Id = snapshot.Size + added.Count;
                    byKey[append.Key] = append;
                    added.Add(append);
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException)
            {
                append.Completion.TrySetException(e);
            }
        }

        if (added.Count == 0)
        {
            return;
        }

        Exception? failure = null;
        try
        {
            _snapshot = await WriteAsync(snapshot, added).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }

        foreach (var append in added)
        {
            if (failure is null)
            {
                append.Completion.TrySetResult(new HostedAppendResult(HostedAppendStatus.Added, append.Id, null, null));
            }
            else
            {
                append.Completion.TrySetException(failure);
            }
        }

        foreach (var (append, original) in waiting)
        {
            if (failure is null)
            {
                append.Completion.TrySetResult(Compare(original.Id, (original.ZipHash, original.GoModHash), append.ZipHash, append.GoModHash));
            }
            else
            {
                append.Completion.TrySetException(failure);
            }
        }
    }

    /// <summary>Writes the records, their index entries and stored hashes past the committed size, syncs them, then
    /// signs and installs the new head; returns the new snapshot. A failure before the head is replaced leaves the
    /// committed log as it was (the bytes written past it are overwritten by the next commit or dropped on open); one
    /// during or after it faults the log, which can no longer tell what is committed.</summary>
    private async Task<Snapshot> WriteAsync(Snapshot snapshot, List<PendingAppend> added)
    {
        long size = snapshot.Size;
        long newSize = size + added.Count;
        var hashes = new PendingHashReader(_files, snapshot.HashCount);
        int recordsLength = added.Sum(a => a.Text.Length);
        var records = new byte[recordsLength];
        var index = new byte[added.Count * HostedLogFiles.OffsetSize];
        long end = snapshot.RecordsLength;
        int at = 0;
        for (int i = 0; i < added.Count; i++)
        {
            var text = added[i].Text;
            text.CopyTo(records, at);
            at += text.Length;
            end += text.Length;
            BinaryPrimitives.WriteInt64LittleEndian(index.AsSpan(i * HostedLogFiles.OffsetSize), end);
            hashes.Add(await Tlog.StoredHashesForRecordHashAsync(size + i, Tlog.RecordHash(text), hashes).ConfigureAwait(false));
        }

        var tree = new TreeHead(newSize, await Tlog.TreeHashAsync(newSize, hashes).ConfigureAwait(false));
        var signedHead = tree.Sign(_signer);
        _files.Append(snapshot.RecordsLength, records, size * HostedLogFiles.OffsetSize, index, snapshot.HashCount * LogHash.Size, hashes.PendingBytes());

        try
        {
            _files.WriteHead(signedHead);
        }
        catch (Exception e)
        {
            // The rename may or may not have happened (or be durable): only reopening can tell.
            _fault = e;
            throw Faulted(e);
        }

        // Fill the map before publishing the snapshot: a reader holding the old snapshot ignores the new ids.
        foreach (var append in added)
        {
            _ids.TryAdd(append.Key, append.Id);
        }

        return new Snapshot(newSize, end, signedHead);
    }

    private IOException Faulted(Exception cause) =>
        new($"checksum database log {_files.Directory} failed to replace its signed tree head and must be reopened: {cause.Message}", cause);

    /// <summary>The committed tree: published as one object, so a reader sees a size and the head signing it.</summary>
    private sealed class Snapshot(long size, long recordsLength, byte[] signedHead)
    {
        public long Size { get; } = size;

        /// <summary>The committed length of records.dat.</summary>
        public long RecordsLength { get; } = recordsLength;

        /// <summary>The committed number of stored hashes.</summary>
        public long HashCount { get; } = Tlog.StoredHashCount(size);

        public byte[] SignedHead { get; } = signedHead;
    }

    private sealed class PendingAppend(string key, string modulePath, string version, string zipHash, string goModHash, byte[] text, CancellationToken cancellationToken)
    {
        public string Key { get; } = key;

        public string ModulePath { get; } = modulePath;

        public string Version { get; } = version;

        public string ZipHash { get; } = zipHash;

        public string GoModHash { get; } = goModHash;

        public byte[] Text { get; } = text;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<HostedAppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The record id, once the writer assigned one.</summary>
        public long Id { get; set; } = -1;
    }

    /// <summary>The stored hashes of a committed tree, read from hashes.dat.</summary>
    private sealed class CommittedHashReader(HostedLogFiles files, long count) : IHashReader
    {
        public ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(indexes);
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult<IReadOnlyList<LogHash>>(files.ReadHashes(indexes, count));
        }
    }

    /// <summary>The committed stored hashes (from hashes.dat) followed by those of the commit being written (in
    /// memory).</summary>
    private sealed class PendingHashReader(HostedLogFiles files, long committed) : IHashReader
    {
        private readonly List<LogHash> _pending = [];

        public void Add(IEnumerable<LogHash> hashes) => _pending.AddRange(hashes);

        public byte[] PendingBytes()
        {
            var bytes = new byte[_pending.Count * LogHash.Size];
            for (int i = 0; i < _pending.Count; i++)
            {
                _pending[i].CopyTo(bytes.AsSpan(i * LogHash.Size));
            }

            return bytes;
        }

        public ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(indexes);
            var old = indexes.Where(x => x < committed).ToList();
            var fromFile = old.Count == 0 ? [] : files.ReadHashes(old, committed);
            var result = new LogHash[indexes.Count];
            int next = 0;
            for (int i = 0; i < indexes.Count; i++)
            {
                long x = indexes[i];
                if (x < committed)
                {
                    result[i] = fromFile[next++];
                }
                else if (x - committed < _pending.Count)
                {
                    result[i] = _pending[(int)(x - committed)];
                }
                else
                {
                    return ValueTask.FromException<IReadOnlyList<LogHash>>(
                        new TlogException($"stored hash index {x} is not in the log (have {committed + _pending.Count})"));
                }
            }

            return ValueTask.FromResult<IReadOnlyList<LogHash>>(result);
        }
    }
}

using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
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

/// <summary>A committed record of a hosted log: its id and its text.</summary>
public sealed record HostedLogRecord(long RecordId, byte[] Text);

/// <summary>A checksum database's log (what golang.org/x/mod/sumdb's server serves from): go.sum records committed
/// under tree heads signed with the server's key, read back as lookups and tiles, kept in an
/// <see cref="IHostedLogStorage"/> that other instances (other nodes) may append to as well.</summary>
/// <remarks>
/// <para>Appends are group-committed: one writer loop takes every pending append, computes the stored hashes the new
/// records add (reading the existing ones through the storage), signs one new tree head for all of them and appends
/// them with <see cref="IHostedLogStorage.TryAppendAsync"/> at the size it last knew. When another instance appended
/// first, it re-reads the state, answers the module versions that are now logged as already present or conflicting,
/// and retries the rest at the new size.</para>
/// <para>The instance serves one committed tree at a time (a size and the head signing it, replaced together and only
/// by a larger one). It re-reads the storage's state when <see cref="GetLatestAsync"/> finds it older than
/// <see cref="StateMaxAge"/>, when a lookup finds a record beyond it, and when a tile beyond it is asked for; so appends
/// made elsewhere are served within <see cref="StateMaxAge"/>. Lookups go to the storage
/// (<see cref="IHostedLogStorage.FindAsync"/>) through a bounded cache of record ids, which never go stale: records
/// are never rewritten.</para>
/// <para>The log does not own its storage: disposing the log leaves the storage open.</para>
/// </remarks>
public sealed class HostedLog : IAsyncDisposable, IDisposable
{
    /// <summary>How old the served state may be before <see cref="GetLatestAsync"/> re-reads it.</summary>
    public static readonly TimeSpan StateMaxAge = TimeSpan.FromSeconds(1);

    // Bounds the memory one commit takes.
    private const int MaxBatch = 4096;

    // Bounds the id cache; it is emptied when full.
    private const int MaxCachedIds = 1 << 16;

    // Appends that lose this many races in a row fail (each lost race means another instance made progress).
    private const int MaxAttempts = 100;

    private readonly IHostedLogStorage _storage;
    private readonly NoteSigner _signer;
    private readonly NoteVerifierList _verifiers;
    private readonly TimeProvider _time;
    private readonly int _tileHeight;
    private readonly ConcurrentDictionary<string, long> _ids = new(StringComparer.Ordinal);
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private Snapshot _snapshot;
    private int _cachedIds;
    private volatile bool _mustReread;
    private int _disposed;

    private HostedLog(IHostedLogStorage storage, NoteSigner signer, NoteVerifierList verifiers, TimeProvider time, int tileHeight, Snapshot snapshot)
    {
        _storage = storage;
        _signer = signer;
        _verifiers = verifiers;
        _time = time;
        _tileHeight = tileHeight;
        _snapshot = snapshot;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The log's name: the signer's (the server name in its key).</summary>
    public string Name => _signer.Name;

    /// <summary>The number of records in the tree this instance serves.</summary>
    public long Size => Current.Size;

    /// <summary>The signed tree note this instance serves, "go.sum database tree\nN\nHASH\n\n— NAME sig\n" (a copy),
    /// without re-reading the storage (see <see cref="GetLatestAsync"/>).</summary>
    public byte[] SignedTreeHead => (byte[])Current.SignedHead.Clone();

    /// <summary>The tile height the log serves.</summary>
    public int TileHeight => _tileHeight;

    private Snapshot Current => Volatile.Read(ref _snapshot);

    /// <summary>Opens the log kept in storage. A log with no signed head yet gets one of size 0 (the all-zero tree
    /// hash). Checks that the head is signed by signer and that the stored hashes give its tree hash.</summary>
    /// <param name="storage">Where the log is kept; not disposed with the log.</param>
    /// <param name="signer">The server's key, which signs every tree head (and must have signed the existing one).</param>
    /// <param name="timeProvider">The clock that ages the served state (system clock when null).</param>
    /// <param name="tileHeight">The height of the tiles <see cref="ReadTileAsync"/> serves (8 for the go command).</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <exception cref="InvalidDataException">The head is not a tree note signed by signer, does not give the
    /// storage's size, or the stored hashes do not hash to it.</exception>
    public static async Task<HostedLog> OpenAsync(IHostedLogStorage storage, NoteSigner signer, TimeProvider? timeProvider = null,
        int tileHeight = SumDbProtocol.DefaultTileHeight, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileHeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tileHeight, Tile.MaxHeight);
        var time = timeProvider ?? TimeProvider.System;
        var verifiers = new NoteVerifierList(NoteVerifier.Parse(signer.VerifierKey));

        var state = await storage.ReadStateAsync(cancellationToken).ConfigureAwait(false);
        if (state is null)
        {
            var empty = new TreeHead(0, LogHash.Zero).Sign(signer);
            state = await storage.TryAppendAsync(0, [], [], empty, cancellationToken).ConfigureAwait(false)
                ? new HostedLogState(0, empty)
                : await storage.ReadStateAsync(cancellationToken).ConfigureAwait(false)
                  ?? throw new InvalidDataException($"checksum database log {signer.Name}: the storage refused the first head but has none");
        }

        var snapshot = CreateSnapshot(state, verifiers, signer, time, out var tree);
        var computed = await Tlog.TreeHashAsync(tree.Size, new StorageHashReader(storage, snapshot.HashCount), cancellationToken).ConfigureAwait(false);
        if (computed != tree.Hash)
        {
            throw new InvalidDataException($"checksum database log {signer.Name}: the stored hashes' tree hash for size {tree.Size} is {computed}, but the signed tree head has {tree.Hash}");
        }

        return new HostedLog(storage, signer, verifiers, time, tileHeight, snapshot);
    }

    /// <summary>The latest signed tree note, re-reading the storage's state first when the one served is older than
    /// <see cref="StateMaxAge"/> (so that appends by other instances show).</summary>
    public async Task<byte[]> GetLatestAsync(CancellationToken cancellationToken)
    {
        var snapshot = Current;
        if (_time.GetUtcNow() - snapshot.ReadAt >= StateMaxAge)
        {
            snapshot = await RereadAsync(cancellationToken).ConfigureAwait(false);
        }

        return (byte[])snapshot.SignedHead.Clone();
    }

    /// <summary>Re-reads the storage's state now and serves it if it is larger than the one served.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken) => await RereadAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The committed record of modulePath@version (a "/go.mod" suffix on the version is ignored: one record
    /// holds both lines), or null when it is not logged.</summary>
    public async Task<HostedLogRecord?> LookupAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        if (await FindCommittedAsync(modulePath, version, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return null;
        }

        return new HostedLogRecord(found.Id, await ReadRecordAsync(found.Id, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The body of the /lookup response for modulePath@version
    /// (<see cref="SumDbProtocol.FormatLookupResponse"/> of the record and a signed tree head it is committed under),
    /// or null when it is not logged.</summary>
    public async Task<byte[]?> LookupResponseAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        if (await FindCommittedAsync(modulePath, version, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return null;
        }

        var text = await ReadRecordAsync(found.Id, cancellationToken).ConfigureAwait(false);
        return SumDbProtocol.FormatLookupResponse(found.Id, text, found.Snapshot.SignedHead);
    }

    /// <summary>Appends the record "path version zipHash\npath version/go.mod goModHash\n"
    /// (<see cref="GoSumRecord.FormatBytes"/>) unless modulePath@version is already logged: then the result is
    /// <see cref="HostedAppendStatus.AlreadyPresent"/> (same hashes) or <see cref="HostedAppendStatus.Conflict"/>
    /// (different hashes), and nothing is written.</summary>
    /// <remarks>Concurrent appends are committed together under one new signed tree head. When this completes with
    /// <see cref="HostedAppendStatus.Added"/>, the record is durable and visible to lookups and tiles. Cancelling
    /// abandons the wait: an append the writer has already taken may still be committed.</remarks>
    /// <exception cref="ArgumentException">The module path, version or a hash is malformed.</exception>
    /// <exception cref="IOException">The storage failed, or the append lost the race to other instances too often.</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    public async Task<HostedAppendResult> AppendAsync(string modulePath, string version, string zipHash, string goModHash, CancellationToken cancellationToken)
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
        cancellationToken.ThrowIfCancellationRequested();

        // Already logged: answer without the writer. The size is read first: if it is still the served one when the
        // writer takes the append, no commit of this instance can have logged it since.
        long checkedSize = Current.Size;
        if (await FindIdAsync(modulePath, version, cancellationToken).ConfigureAwait(false) is { } id)
        {
            return Compare(id, await ReadHashesAsync(id, modulePath, version, cancellationToken).ConfigureAwait(false), zipHash, goModHash);
        }

        var pending = new PendingAppend(Key(modulePath, version), modulePath, version, zipHash, goModHash, text, cancellationToken) { CheckedSize = checkedSize };
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(GetType().FullName);
        }

        return await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The body of a tile of the committed tree, or null when the tree does not contain it (after re-reading
    /// the storage's state).</summary>
    /// <remarks>Hash tiles (Level ≥ 0) hold Width·32 bytes of hashes; data tiles (Level −1) hold Width records as
    /// <see cref="SumDbProtocol.FormatDataTile"/> writes them. A partial tile of width W exists once the tree has at
    /// least W entries at that level in that tile, and is still answered (with the first W entries) once the tile is
    /// full, as sum.golang.org does. A tile of another height than <see cref="TileHeight"/> does not exist.</remarks>
    public async ValueTask<byte[]?> ReadTileAsync(Tile tile, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (tile.Height != _tileHeight || tile.Level < -1 || tile.Level > 63 || tile.Width < 1 || tile.Width > 1 << tile.Height || tile.Number < 0)
        {
            return null;
        }

        int shift = tile.IsData ? 0 : tile.Level * tile.Height;
        if (shift >= 63 || tile.Number > (long.MaxValue >> tile.Height) - 1)
        {
            return null;
        }

        long first = tile.Number << tile.Height;
        var snapshot = Current;
        if (first + tile.Width > snapshot.Size >> shift)
        {
            snapshot = await RereadAsync(cancellationToken).ConfigureAwait(false);
            if (first + tile.Width > snapshot.Size >> shift)
            {
                return null;
            }
        }

        if (tile.IsData)
        {
            return SumDbProtocol.FormatDataTile(tile, await _storage.ReadRecordsAsync(first, tile.Width, cancellationToken).ConfigureAwait(false));
        }

        return await Tile.ReadDataAsync(tile, new StorageHashReader(_storage, snapshot.HashCount), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the appends already queued to finish. The storage stays open.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        _writer.GetAwaiter().GetResult();
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
    }

    /// <summary>The module path and version (without "/go.mod") a record is about, from its first line; null when
    /// the text does not start with a go.sum line.</summary>
    internal static (string ModulePath, string Version)? ParseRecordKey(ReadOnlySpan<byte> text)
    {
        int nl = text.IndexOf((byte)'\n');
        var fields = nl < 0 ? [] : Encoding.UTF8.GetString(text[..nl]).Split(' ');
        if (fields.Length != 3 || fields[0].Length == 0 || fields[1].Length == 0)
        {
            return null;
        }

        return (fields[0], StripGoMod(fields[1]));
    }

    private static string Key(string modulePath, string version) => modulePath + "@" + version;

    private static string StripGoMod(string version) =>
        version.EndsWith(GoSumLine.GoModSuffix, StringComparison.Ordinal) ? version[..^GoSumLine.GoModSuffix.Length] : version;

    /// <summary>Checks a state read from the storage: its head is a tree note signed by the log's key, of its size.</summary>
    private static Snapshot CreateSnapshot(HostedLogState state, NoteVerifierList verifiers, NoteSigner signer, TimeProvider time, out TreeHead tree)
    {
        try
        {
            tree = TreeHead.OpenSigned(state.SignedHead, verifiers);
        }
        catch (Exception e) when (e is NoteException or FormatException)
        {
            throw new InvalidDataException(
                $"checksum database log {signer.Name}: the head is not a tree head signed by {signer.Name}+{signer.KeyHash:x8}: {e.Message}", e);
        }

        if (tree.Size != state.Size)
        {
            throw new InvalidDataException($"checksum database log {signer.Name}: the head is of size {tree.Size}, but the log holds {state.Size} records");
        }

        return new Snapshot(state.Size, state.SignedHead, time.GetUtcNow());
    }

    /// <summary>Serves next unless a larger tree (or the same one read later) is served already; returns what is served.</summary>
    private Snapshot Publish(Snapshot next)
    {
        while (true)
        {
            var current = Current;
            if (current.Size > next.Size || (current.Size == next.Size && current.ReadAt >= next.ReadAt))
            {
                return current;
            }

            if (ReferenceEquals(Interlocked.CompareExchange(ref _snapshot, next, current), current))
            {
                return next;
            }
        }
    }

    private async Task<Snapshot> RereadAsync(CancellationToken cancellationToken)
    {
        var state = await _storage.ReadStateAsync(cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidDataException($"checksum database log {Name}: the storage lost its signed head");
        return Publish(CreateSnapshot(state, _verifiers, _signer, _time, out _));
    }

    /// <summary>The id of modulePath@version in the storage (which may be beyond the served tree), or null.</summary>
    private async Task<long?> FindIdAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);
        version = StripGoMod(version);
        var key = Key(modulePath, version);
        if (_ids.TryGetValue(key, out long id))
        {
            return id;
        }

        if (await _storage.FindAsync(modulePath, version, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return null;
        }

        Remember(key, found);
        return found;
    }

    private void Remember(string key, long id)
    {
        // Counted apart: ConcurrentDictionary.Count takes every lock.
        if (Volatile.Read(ref _cachedIds) >= MaxCachedIds)
        {
            _ids.Clear();
            Interlocked.Exchange(ref _cachedIds, 0);
        }

        if (_ids.TryAdd(key, id))
        {
            Interlocked.Increment(ref _cachedIds);
        }
    }

    /// <summary>The id of modulePath@version and a served tree that contains it, or null.</summary>
    private async Task<(long Id, Snapshot Snapshot)?> FindCommittedAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        if (await FindIdAsync(modulePath, version, cancellationToken).ConfigureAwait(false) is not { } id)
        {
            return null;
        }

        var snapshot = Current;
        if (id >= snapshot.Size)
        {
            // Appended by another instance (or just now by this one) after the tree this instance serves.
            snapshot = await RereadAsync(cancellationToken).ConfigureAwait(false);
        }

        return id < snapshot.Size ? (id, snapshot) : null;
    }

    private async Task<byte[]> ReadRecordAsync(long id, CancellationToken cancellationToken) =>
        (await _storage.ReadRecordsAsync(id, 1, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>The hashes record id holds for modulePath@version: (zip hash, go.mod hash).</summary>
    private async Task<(string? Zip, string? GoMod)> ReadHashesAsync(long id, string modulePath, string version, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetString(await ReadRecordAsync(id, cancellationToken).ConfigureAwait(false));
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

    /// <summary>Commits one batch: settles what is logged already, appends the rest under one new signed head
    /// (retrying at the new size when another instance appended first), completes every caller. Failures complete
    /// the callers they concern.</summary>
    private async Task CommitAsync(List<PendingAppend> batch)
    {
        if (_mustReread)
        {
            // The last append failed and may or may not have been committed: learn which before checking this batch.
            await RereadAsync(CancellationToken.None).ConfigureAwait(false);
            _mustReread = false;
        }

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

            if (byKey.TryGetValue(append.Key, out var original))
            {
                waiting.Add((append, original));
                continue;
            }

            byKey[append.Key] = append;
            try
            {
                // Checked against the tree still served: another instance may have logged it since, but then the
                // append loses the race and is checked again.
                if (append.CheckedSize == Current.Size || !await SettleIfLoggedAsync(append).ConfigureAwait(false))
                {
                    added.Add(append);
                }
            }
            catch (Exception e)
            {
                append.Completion.TrySetException(e);
            }
        }

        try
        {
            await AppendAllAsync(added).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The storage may or may not have committed: read its state again before the next commit.
            _mustReread = true;
            foreach (var append in added)
            {
                append.Completion.TrySetException(e);
            }
        }

        foreach (var (append, original) in waiting)
        {
            var task = original.Completion.Task;
            if (task.IsCompletedSuccessfully)
            {
                var result = task.Result;
                var existing = result.Status == HostedAppendStatus.Added
                    ? (original.ZipHash, original.GoModHash)
                    : (result.ExistingZipHash, result.ExistingGoModHash);
                append.Completion.TrySetResult(Compare(result.RecordId, existing, append.ZipHash, append.GoModHash));
            }
            else
            {
                append.Completion.TrySetException(task.Exception?.InnerException ?? new InvalidOperationException("the append it duplicates was not settled"));
            }
        }
    }

    /// <summary>Completes append as already present or conflicting when the storage has its module version; false
    /// when it has not.</summary>
    private async Task<bool> SettleIfLoggedAsync(PendingAppend append)
    {
        if (await FindIdAsync(append.ModulePath, append.Version, CancellationToken.None).ConfigureAwait(false) is not { } id)
        {
            return false;
        }

        var existing = await ReadHashesAsync(id, append.ModulePath, append.Version, CancellationToken.None).ConfigureAwait(false);
        append.Completion.TrySetResult(Compare(id, existing, append.ZipHash, append.GoModHash));
        return true;
    }

    /// <summary>Appends the records at the size last known, and after each lost race at the new size, without those
    /// another instance logged meanwhile.</summary>
    private async Task AppendAllAsync(List<PendingAppend> added)
    {
        if (added.Count == 0)
        {
            return;
        }

        var snapshot = Current;
        for (int attempt = 1; ; attempt++)
        {
            long size = snapshot.Size;
            var hashes = new PendingHashReader(_storage, snapshot.HashCount);
            var entries = new HostedLogEntry[added.Count];
            for (int i = 0; i < added.Count; i++)
            {
                var append = added[i];
                append.Id = size + i;
                entries[i] = new HostedLogEntry(append.ModulePath, append.Version, append.Text);
                hashes.Add(await Tlog.StoredHashesForRecordHashAsync(size + i, Tlog.RecordHash(append.Text), hashes).ConfigureAwait(false));
            }

            long newSize = size + added.Count;
            var signedHead = new TreeHead(newSize, await Tlog.TreeHashAsync(newSize, hashes).ConfigureAwait(false)).Sign(_signer);
            if (await _storage.TryAppendAsync(size, entries, hashes.Pending, signedHead, CancellationToken.None).ConfigureAwait(false))
            {
                Publish(new Snapshot(newSize, signedHead, _time.GetUtcNow()));
                foreach (var append in added)
                {
                    Remember(append.Key, append.Id);
                    append.Completion.TrySetResult(new HostedAppendResult(HostedAppendStatus.Added, append.Id, null, null));
                }

                return;
            }

            // Another instance appended first: what it logged is answered from the log, the rest is tried again.
            if (attempt >= MaxAttempts)
            {
                throw new IOException($"checksum database log {Name}: {attempt} appends in a row lost the race to other writers");
            }

            snapshot = await RereadAsync(CancellationToken.None).ConfigureAwait(false);
            var remaining = new List<PendingAppend>();
            foreach (var append in added)
            {
                if (!await SettleIfLoggedAsync(append).ConfigureAwait(false))
                {
                    remaining.Add(append);
                }
            }

            added = remaining;
            if (added.Count == 0)
            {
                return;
            }
        }
    }

    /// <summary>A served tree: its size and the head signing it, published as one object, and when it was read.</summary>
    private sealed class Snapshot(long size, byte[] signedHead, DateTimeOffset readAt)
    {
        public long Size { get; } = size;

        /// <summary>The number of stored hashes of the tree.</summary>
        public long HashCount { get; } = Tlog.StoredHashCount(size);

        public byte[] SignedHead { get; } = signedHead;

        public DateTimeOffset ReadAt { get; } = readAt;
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

        /// <summary>The size of the served tree before the caller found the module version not logged.</summary>
        public long CheckedSize { get; init; } = -1;
    }

    /// <summary>The stored hashes of a served tree, read through the storage (only below the tree's hash count).</summary>
    private sealed class StorageHashReader(IHostedLogStorage storage, long count) : IHashReader
    {
        public async ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(indexes);
            foreach (long x in indexes)
            {
                if (x < 0 || x >= count)
                {
                    throw new TlogException($"stored hash index {x} is not in the log (have {count})");
                }
            }

            return indexes.Count == 0 ? [] : await storage.ReadHashesAsync(indexes, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The stored hashes of a tree (through the storage) followed by those of the append being prepared (in
    /// memory).</summary>
    private sealed class PendingHashReader(IHostedLogStorage storage, long committed) : IHashReader
    {
        private readonly List<LogHash> _pending = [];

        public IReadOnlyList<LogHash> Pending => _pending;

        public void Add(IEnumerable<LogHash> hashes) => _pending.AddRange(hashes);

        public async ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(indexes);
            var old = indexes.Where(x => x < committed).ToList();
            var fromStorage = old.Count == 0 ? [] : await storage.ReadHashesAsync(old, cancellationToken).ConfigureAwait(false);
            var result = new LogHash[indexes.Count];
            int next = 0;
            for (int i = 0; i < indexes.Count; i++)
            {
                long x = indexes[i];
                if (x < 0)
                {
                    throw new TlogException($"stored hash index {x} is not in the log");
                }

                if (x < committed)
                {
                    result[i] = fromStorage[next++];
                }
                else if (x - committed < _pending.Count)
                {
                    result[i] = _pending[(int)(x - committed)];
                }
                else
                {
                    throw new TlogException($"stored hash index {x} is not in the log (have {committed + _pending.Count})");
                }
            }

            return result;
        }
    }
}

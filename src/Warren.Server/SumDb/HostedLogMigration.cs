using Warren.Core.SumDb;
using Warren.Storage.FileSystem;

namespace Warren.Server.SumDb;

/// <summary>What <see cref="HostedLogMigration.ImportAsync"/> did.</summary>
public enum HostedLogMigrationStatus
{
    /// <summary>The directory holds no file log (no head, no data): nothing to do.</summary>
    NoFileLog,

    /// <summary>The records were imported into the target (all, or those an interrupted import had not), and the files
    /// renamed aside.</summary>
    Imported,

    /// <summary>The target already held the file log (a finished import, perhaps appended to since): the files were
    /// renamed aside.</summary>
    AlreadyInTarget,

    /// <summary>The files had been renamed aside by an earlier run (leftovers of an interrupted rename are renamed too).</summary>
    AlreadyMigrated,
}

/// <summary>The outcome of a migration: what was done, the file log's size and how many records this run imported.</summary>
public sealed record HostedLogMigrationResult(HostedLogMigrationStatus Status, long Size, long ImportedRecords);

/// <summary>Moves a hosted checksum database log from its files (<see cref="FileHostedLogStorage"/>) into another
/// <see cref="IHostedLogStorage"/>, once.</summary>
/// <remarks>
/// <para>The file log is opened as the server would open it (lock, crash recovery, tree hash check) and its head must
/// be signed by the signer. The records and stored hashes are appended to the target in batches with
/// <see cref="IHostedLogStorage.TryAppendAsync"/>, each under a head signed for its size (the last one under the file
/// log's own head), so that the target is a valid log after every batch. Then the data files and the head are renamed
/// to <c>NAME.migrated</c>, the head first.</para>
/// <para>Running it again is safe at any point: a target that holds a prefix of the file log (an interrupted import)
/// is completed; one that holds the whole file log (perhaps with more records appended since) only gets the files
/// renamed; a target whose log is not an extension of the file log's prefix is refused with an
/// <see cref="InvalidOperationException"/> and nothing is changed.</para>
/// </remarks>
public static class HostedLogMigration
{
    /// <summary>The suffix of renamed files.</summary>
    public const string MigratedSuffix = ".migrated";

    /// <summary>Records per append.</summary>
    public const int BatchSize = 1000;

    private static readonly string[] DataFiles = [HostedLogFiles.RecordsName, HostedLogFiles.IndexName, HostedLogFiles.HashesName];

    /// <summary>Imports the file log in directory into target (see the remarks).</summary>
    /// <param name="directory">The file log's directory.</param>
    /// <param name="target">The storage to import into.</param>
    /// <param name="signer">The log's key: the file head must be signed by it, and it signs the heads of the batches.</param>
    /// <param name="cancellationToken">Cancels between batches (what is appended stays; a later run continues).</param>
    /// <exception cref="InvalidOperationException">The target holds another log.</exception>
    /// <exception cref="InvalidDataException">The file log is corrupt or not signed by signer.</exception>
    /// <exception cref="IOException">The file log is in use or cannot be read or renamed.</exception>
    public static async Task<HostedLogMigrationResult> ImportAsync(string directory, IHostedLogStorage target, NoteSigner signer, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(signer);
        directory = Path.GetFullPath(directory);
        var headPath = Path.Combine(directory, HostedLogFiles.HeadName);
        if (!File.Exists(headPath))
        {
            if (File.Exists(headPath + MigratedSuffix))
            {
                RenameAside(directory);
                return new HostedLogMigrationResult(HostedLogMigrationStatus.AlreadyMigrated, 0, 0);
            }

            if (DataFiles.Any(name => File.Exists(Path.Combine(directory, name)) && new FileInfo(Path.Combine(directory, name)).Length > 0))
            {
                throw new InvalidDataException($"checksum database log {directory} has data but no signed tree head ({HostedLogFiles.HeadName})");
            }

            return new HostedLogMigrationResult(HostedLogMigrationStatus.NoFileLog, 0, 0);
        }

        var verifiers = new NoteVerifierList(NoteVerifier.Parse(signer.VerifierKey));
        HostedLogMigrationResult result;
        await using (var source = FileHostedLogStorage.Open(directory, fsync: true))
        {
            var state = await source.ReadStateAsync(cancellationToken).ConfigureAwait(false)
                        ?? throw new InvalidDataException($"checksum database log {directory} has no signed tree head");
            var tree = OpenHead(state.SignedHead, verifiers, $"checksum database log {directory}");
            result = await CopyAsync(directory, source, state, tree, target, signer, verifiers, cancellationToken).ConfigureAwait(false);
        }

        RenameAside(directory);
        return result;
    }

    private static async Task<HostedLogMigrationResult> CopyAsync(string directory, FileHostedLogStorage source, HostedLogState state, TreeHead tree,
        IHostedLogStorage target, NoteSigner signer, NoteVerifierList verifiers, CancellationToken cancellationToken)
    {
        var sourceHashes = new HashReader(source);
        long size = tree.Size;
        long done = await CheckTargetAsync(directory, size, tree, sourceHashes, target, verifiers, cancellationToken).ConfigureAwait(false);
        if (done < 0)
        {
            return new HostedLogMigrationResult(HostedLogMigrationStatus.AlreadyInTarget, size, 0);
        }

        long start = done;
        if (size == 0)
        {
            // An empty log: its head is all there is to carry.
            if (!await target.TryAppendAsync(0, [], [], state.SignedHead, cancellationToken).ConfigureAwait(false))
            {
                throw Changed(directory);
            }

            return new HostedLogMigrationResult(HostedLogMigrationStatus.Imported, 0, 0);
        }

        while (done < size)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = (int)Math.Min(BatchSize, size - done);
            long end = done + count;
            var texts = await source.ReadRecordsAsync(done, count, cancellationToken).ConfigureAwait(false);
            var entries = new HostedLogEntry[count];
            for (int i = 0; i < count; i++)
            {
                var key = HostedLog.ParseRecordKey(texts[i])
                          ?? throw new InvalidDataException($"checksum database log {directory}: record {done + i} is not a go.sum record");
                entries[i] = new HostedLogEntry(key.ModulePath, key.Version, texts[i]);
            }

            long firstHash = Tlog.StoredHashCount(done);
            var indexes = new long[Tlog.StoredHashCount(end) - firstHash];
            for (int i = 0; i < indexes.Length; i++)
            {
                indexes[i] = firstHash + i;
            }

            var hashes = await source.ReadHashesAsync(indexes, cancellationToken).ConfigureAwait(false);
            var head = end == size
                ? state.SignedHead
                : new TreeHead(end, await Tlog.TreeHashAsync(end, sourceHashes, cancellationToken).ConfigureAwait(false)).Sign(signer);
            if (!await target.TryAppendAsync(done, entries, hashes, head, cancellationToken).ConfigureAwait(false))
            {
                throw Changed(directory);
            }

            done = end;
        }

        return new HostedLogMigrationResult(HostedLogMigrationStatus.Imported, size, size - start);
    }

    /// <summary>How many records of the file log the target holds already (0 when it is empty, k when it holds the
    /// first k records of an interrupted import), or −1 when it holds all of them; throws when it holds another log.</summary>
    private static async Task<long> CheckTargetAsync(string directory, long size, TreeHead tree, IHashReader sourceHashes, IHostedLogStorage target,
        NoteVerifierList verifiers, CancellationToken cancellationToken)
    {
        var existing = await target.ReadStateAsync(cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return 0;
        }

        var targetTree = OpenHead(existing.SignedHead, verifiers, "the target log");
        if (targetTree.Size == 0 && size > 0)
        {
            return 0;
        }

        if (targetTree.Size < size)
        {
            // An interrupted import: the target must be the file log's prefix.
            var prefixHash = await Tlog.TreeHashAsync(targetTree.Size, sourceHashes, cancellationToken).ConfigureAwait(false);
            if (prefixHash != targetTree.Hash)
            {
                throw Refused(directory, size, targetTree);
            }

            return targetTree.Size;
        }

        // The target holds at least as many records: the file log must be its prefix.
        var targetHash = targetTree.Size == size
            ? targetTree.Hash
            : await Tlog.TreeHashAsync(size, new HashReader(target), cancellationToken).ConfigureAwait(false);
        if (targetHash != tree.Hash)
        {
            throw Refused(directory, size, targetTree);
        }

        return -1;
    }

    private static TreeHead OpenHead(byte[] signedHead, NoteVerifierList verifiers, string what)
    {
        try
        {
            return TreeHead.OpenSigned(signedHead, verifiers);
        }
        catch (Exception e) when (e is NoteException or FormatException)
        {
            throw new InvalidDataException($"{what}: the head is not a tree head signed by the log's key: {e.Message}", e);
        }
    }

    private static InvalidOperationException Refused(string directory, long size, TreeHead target) =>
        new($"cannot import checksum database log {directory} ({size} records): the target holds another log ({target.Size} records, tree hash {target.Hash})");

    private static InvalidOperationException Changed(string directory) =>
        new($"cannot import checksum database log {directory}: the target log changed while importing");

    /// <summary>Renames the head, then the data files, to NAME.migrated (those not renamed yet).</summary>
    private static void RenameAside(string directory)
    {
        foreach (var name in new[] { HostedLogFiles.HeadName }.Concat(DataFiles))
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                File.Move(path, path + MigratedSuffix, overwrite: true);
            }
        }

        StoreFiles.SyncDirectory(directory);
    }

    /// <summary>A storage's stored hashes as a tlog hash reader.</summary>
    private sealed class HashReader(IHostedLogStorage storage) : IHashReader
    {
        public async ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default) =>
            await storage.ReadHashesAsync(indexes, cancellationToken).ConfigureAwait(false);
    }
}

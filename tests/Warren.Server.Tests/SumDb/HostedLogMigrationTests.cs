using Warren.Core.SumDb;
using Warren.Server.SumDb;
using Warren.Storage;
using Warren.Testing.Storage;
using static Warren.Server.Tests.SumDb.HostedLogTestData;

namespace Warren.Server.Tests.SumDb;

/// <summary>Moving a file log into another storage: same head and records, once, and never over another log.</summary>
public sealed class HostedLogMigrationTests
{
    private static readonly string[] FileNames = ["head", "records.dat", "records.idx", "hashes.dat"];

    private readonly NoteSigner _signer = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);

    /// <summary>A file log of count records; returns its directory and signed head.</summary>
    private async Task<(string Dir, byte[] Head)> FileLogAsync(int count)
    {
        var dir = TestPaths.NewTempDir("hosted-migrate");
        await using var storage = FileHostedLogStorage.Open(dir, fsync: false);
        await using var log = await HostedLog.OpenAsync(storage, _signer);
        await AppendInOrderAsync(log, new Reference(), 0, count);
        return (dir, log.SignedTreeHead);
    }

    [Fact]
    public async Task A_file_log_is_imported_with_its_head_and_records_and_the_files_are_renamed_once()
    {
        var (dir, head) = await FileLogAsync(2345);
        var target = new MemoryHostedLogStorage();

        var result = await HostedLogMigration.ImportAsync(dir, target, _signer, CancellationToken.None);
        Assert.Equal(new HostedLogMigrationResult(HostedLogMigrationStatus.Imported, 2345, 2345), result);
        Assert.Equal(3, target.AppendCount); // batches of 1000
        var state = await target.ReadStateAsync(CancellationToken.None);
        Assert.Equal(2345, state!.Size);
        Assert.Equal(head, state.SignedHead);
        Assert.Equal(RecordText(Module(1234), "v1.0.0"), (await target.ReadRecordsAsync(1234, 1, CancellationToken.None))[0]);
        Assert.Equal(2000L, await target.FindAsync(Module(2000), "v1.0.0", CancellationToken.None));
        Assert.All(FileNames, name =>
        {
            Assert.False(File.Exists(Path.Combine(dir, name)), name);
            Assert.True(File.Exists(Path.Combine(dir, name + ".migrated")), name + ".migrated");
        });

        // The imported log serves what the files served, and grows.
        await using (var log = await HostedLog.OpenAsync(target, _signer))
        {
            Assert.Equal(head, log.SignedTreeHead);
            var reference = new Reference();
            foreach (var text in await target.ReadRecordsAsync(0, 2345, CancellationToken.None))
            {
                reference.Add(text);
            }

            foreach (var tile in new[] { new Tile(8, 0, 9, 41), new Tile(8, 1, 0, 9), new Tile(8, -1, 3, 256) })
            {
                Assert.Equal(await reference.TileAsync(tile), await log.ReadTileAsync(tile, CancellationToken.None));
            }

            Assert.Equal(2345, (await AppendAsync(log, "example.com/after")).RecordId);
        }

        // A second run finds nothing to do and changes nothing.
        int appends = target.AppendCount;
        var again = await HostedLogMigration.ImportAsync(dir, target, _signer, CancellationToken.None);
        Assert.Equal(HostedLogMigrationStatus.AlreadyMigrated, again.Status);
        Assert.Equal(appends, target.AppendCount);
    }

    [Fact]
    public async Task A_target_holding_the_log_already_only_gets_the_files_renamed()
    {
        var (dir, head) = await FileLogAsync(30);
        var target = new MemoryHostedLogStorage();
        Assert.Equal(HostedLogMigrationStatus.Imported, (await HostedLogMigration.ImportAsync(dir, target, _signer, CancellationToken.None)).Status);

        // As after a crash between importing and renaming, with appends made through the target since.
        foreach (var name in FileNames)
        {
            File.Move(Path.Combine(dir, name + ".migrated"), Path.Combine(dir, name));
        }

        await using (var log = await HostedLog.OpenAsync(target, _signer))
        {
            await AppendAsync(log, "example.com/later");
        }

        int appends = target.AppendCount;
        var result = await HostedLogMigration.ImportAsync(dir, target, _signer, CancellationToken.None);
        Assert.Equal(new HostedLogMigrationResult(HostedLogMigrationStatus.AlreadyInTarget, 30, 0), result);
        Assert.Equal(appends, target.AppendCount);
        Assert.Equal(31, (await target.ReadStateAsync(CancellationToken.None))!.Size);
        Assert.False(File.Exists(Path.Combine(dir, "head")));
        Assert.NotEqual(head, (await target.ReadStateAsync(CancellationToken.None))!.SignedHead);
    }

    [Fact]
    public async Task An_interrupted_import_is_completed()
    {
        var (dir, head) = await FileLogAsync(2100);
        var target = new MemoryHostedLogStorage();
        using (var cancel = new CancellationTokenSource())
        {
            // Cancel once the first batch is in.
            var importing = new CancellingStorage(target, cancel);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => HostedLogMigration.ImportAsync(dir, importing, _signer, cancel.Token));
        }

        Assert.Equal(1000, (await target.ReadStateAsync(CancellationToken.None))!.Size);
        Assert.True(File.Exists(Path.Combine(dir, "head")));

        var result = await HostedLogMigration.ImportAsync(dir, target, _signer, CancellationToken.None);
        Assert.Equal(new HostedLogMigrationResult(HostedLogMigrationStatus.Imported, 2100, 1100), result);
        Assert.Equal(head, (await target.ReadStateAsync(CancellationToken.None))!.SignedHead);
        await using var log = await HostedLog.OpenAsync(target, _signer);
        Assert.Equal(2100, log.Size);
    }

    [Fact]
    public async Task A_target_holding_another_log_is_refused_and_nothing_changes()
    {
        var (dir, _) = await FileLogAsync(5);
        var target = new MemoryHostedLogStorage();
        await using (var log = await HostedLog.OpenAsync(target, _signer))
        {
            await AppendAsync(log, "example.com/other");
            await AppendAsync(log, Module(1));
        }

        var state = await target.ReadStateAsync(CancellationToken.None);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => HostedLogMigration.ImportAsync(dir, target, _signer, CancellationToken.None));
        Assert.Contains("the target holds another log", e.Message, StringComparison.Ordinal);
        Assert.Equal(state!.SignedHead, (await target.ReadStateAsync(CancellationToken.None))!.SignedHead);
        Assert.All(FileNames, name => Assert.True(File.Exists(Path.Combine(dir, name)), name));

        // A larger target that does not extend the file log is refused too.
        var larger = new MemoryHostedLogStorage();
        await using (var log = await HostedLog.OpenAsync(larger, _signer))
        {
            await AppendInOrderAsync(log, new Reference(), 1, 10);
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => HostedLogMigration.ImportAsync(dir, larger, _signer, CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(dir, "head")));
    }

    [Fact]
    public async Task A_file_log_signed_by_another_key_or_no_file_log_at_all()
    {
        var (dir, _) = await FileLogAsync(3);
        var other = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);
        var target = new MemoryHostedLogStorage();
        await Assert.ThrowsAsync<InvalidDataException>(() => HostedLogMigration.ImportAsync(dir, target, other, CancellationToken.None));
        Assert.Null(await target.ReadStateAsync(CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(dir, "head")));

        var empty = TestPaths.NewTempDir("hosted-migrate");
        var result = await HostedLogMigration.ImportAsync(empty, target, _signer, CancellationToken.None);
        Assert.Equal(HostedLogMigrationStatus.NoFileLog, result.Status);
        Assert.Null(await target.ReadStateAsync(CancellationToken.None));
    }

    /// <summary>Passes everything to a storage and cancels the token after the first append that adds records.</summary>
    private sealed class CancellingStorage(IHostedLogStorage inner, CancellationTokenSource cancel) : IHostedLogStorage
    {
        public Task<HostedLogState?> ReadStateAsync(CancellationToken cancellationToken) => inner.ReadStateAsync(cancellationToken);

        public Task<IReadOnlyList<byte[]>> ReadRecordsAsync(long first, int count, CancellationToken cancellationToken) =>
            inner.ReadRecordsAsync(first, count, cancellationToken);

        public Task<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> storageIndexes, CancellationToken cancellationToken) =>
            inner.ReadHashesAsync(storageIndexes, cancellationToken);

        public Task<long?> FindAsync(string modulePath, string version, CancellationToken cancellationToken) => inner.FindAsync(modulePath, version, cancellationToken);

        public async Task<bool> TryAppendAsync(long expectedSize, IReadOnlyList<HostedLogEntry> entries, IReadOnlyList<LogHash> hashes, byte[] signedHead,
            CancellationToken cancellationToken)
        {
            var appended = await inner.TryAppendAsync(expectedSize, entries, hashes, signedHead, cancellationToken);
            if (entries.Count > 0)
            {
                await cancel.CancelAsync();
            }

            return appended;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

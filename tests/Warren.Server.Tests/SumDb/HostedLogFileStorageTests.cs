using System.Buffers.Binary;
using Warren.Core.SumDb;
using Warren.Server.SumDb;
using static Warren.Server.Tests.SumDb.HostedLogTestData;

namespace Warren.Server.Tests.SumDb;

/// <summary>What only the file storage does: its on-disk format, lock, crash recovery and corruption checks.</summary>
public sealed class HostedLogFileStorageTests
{
    private readonly NoteSigner _signer = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);

    private NoteVerifierList Verifiers => NoteVerifierList.FromKeys(_signer.VerifierKey);

    private async Task<(FileHostedLogStorage Storage, HostedLog Log)> OpenAsync(string dir, bool fsync = true)
    {
        var storage = FileHostedLogStorage.Open(dir, fsync);
        try
        {
            return (storage, await HostedLog.OpenAsync(storage, _signer));
        }
        catch
        {
            await storage.DisposeAsync();
            throw;
        }
    }

    private static async Task CloseAsync((FileHostedLogStorage Storage, HostedLog Log) opened)
    {
        await opened.Log.DisposeAsync();
        await opened.Storage.DisposeAsync();
    }

    private async Task<InvalidDataException> OpenFailsAsync(string dir)
    {
        var e = await Record.ExceptionAsync(() => OpenAsync(dir));
        return Assert.IsType<InvalidDataException>(e);
    }

    [Fact]
    public async Task A_new_log_writes_the_empty_head_and_empty_data_files()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var opened = await OpenAsync(dir);
        try
        {
            Assert.Equal(opened.Log.SignedTreeHead, File.ReadAllBytes(Path.Combine(dir, "head")));
            Assert.Equal(new TreeHead(0, LogHash.Zero), TreeHead.OpenSigned(File.ReadAllBytes(Path.Combine(dir, "head")), Verifiers));
            Assert.Equal([0L, 0L, 0L], DataLengths(dir));
            Assert.Equal(Path.GetFullPath(dir), opened.Storage.Directory);
        }
        finally
        {
            await CloseAsync(opened);
        }
    }

    [Fact]
    public async Task Appends_go_to_the_files_and_settled_ones_write_nothing()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var opened = await OpenAsync(dir);
        try
        {
            await AppendInOrderAsync(opened.Log, new Reference(), 0, 3);
            Assert.Equal(opened.Log.SignedTreeHead, File.ReadAllBytes(Path.Combine(dir, "head")));
            var lengths = DataLengths(dir);
            Assert.Equal(3 * 8, lengths[1]);
            Assert.Equal(Tlog.StoredHashCount(3) * 32, lengths[2]);

            Assert.Equal(HostedAppendStatus.AlreadyPresent, (await AppendAsync(opened.Log, Module(1))).Status);
            Assert.Equal(HostedAppendStatus.Conflict,
                (await opened.Log.AppendAsync(Module(2), "v1.0.0", TestSumDb.FakeHash("x"), ModHash(Module(2), "v1.0.0"), CancellationToken.None)).Status);
            Assert.Equal(lengths, DataLengths(dir));
        }
        finally
        {
            await CloseAsync(opened);
        }
    }

    [Fact]
    public async Task Reopening_after_a_crash_drops_uncommitted_bytes_and_continues()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var reference = new Reference();
        byte[] head;
        long[] lengths;
        var opened = await OpenAsync(dir);
        await AppendInOrderAsync(opened.Log, reference, 0, 10);
        head = opened.Log.SignedTreeHead;
        lengths = DataLengths(dir);
        await CloseAsync(opened);

        // A commit that wrote its data (a whole valid record, its index entry and its hashes) but not its head, then
        // a torn write of the next one, and a head temp file never renamed.
        var uncommitted = RecordText("example.com/lost", "v1.0.0");
        var store = new MemoryHashStore(Enumerable.Range(0, (int)reference.Store.Count).Select(i => reference.Store[i]));
        store.AppendRecord(uncommitted);
        AppendBytes(dir, "records.dat", [.. uncommitted, .. "example.com/torn v1.0"u8]);
        var entry = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(entry, lengths[0] + uncommitted.Length);
        AppendBytes(dir, "records.idx", [.. entry, 1, 2, 3]);
        var newHashes = Enumerable.Range((int)reference.Store.Count, (int)(store.Count - reference.Store.Count)).SelectMany(i => store[i].ToArray()).ToArray();
        AppendBytes(dir, "hashes.dat", [.. newHashes, .. new byte[17]]);
        File.WriteAllBytes(Path.Combine(dir, "head.tmp"), new TreeHead(11, await Tlog.TreeHashAsync(11, store)).Sign(_signer)[..40]);
        Assert.NotEqual(lengths, DataLengths(dir));

        opened = await OpenAsync(dir);
        try
        {
            var log = opened.Log;
            Assert.Equal(10, log.Size);
            Assert.Equal(head, log.SignedTreeHead);
            Assert.Equal(lengths, DataLengths(dir));
            Assert.False(File.Exists(Path.Combine(dir, "head.tmp")));
            Assert.Null(await log.LookupAsync("example.com/lost", "v1.0.0", CancellationToken.None));
            Assert.Null(await log.ReadTileAsync(new Tile(8, -1, 0, 11), CancellationToken.None));

            // Appends continue where the committed log ended, and the result is the same as if there had been no crash.
            var added = await AppendAsync(log, "example.com/next");
            Assert.Equal(new HostedAppendResult(HostedAppendStatus.Added, 10, null, null), added);
            reference.Add(RecordText("example.com/next", "v1.0.0"));
            Assert.Equal(HostedAppendStatus.Added, (await AppendAsync(log, "example.com/lost")).Status);
            reference.Add(uncommitted);
            Assert.Equal(new TreeHead(12, await Tlog.TreeHashAsync(12, reference.Store)), TreeHead.OpenSigned(log.SignedTreeHead, Verifiers));
            foreach (var tile in new[] { new Tile(8, 0, 0, 12), new Tile(8, -1, 0, 12), new Tile(8, 0, 0, 3) })
            {
                Assert.Equal(await reference.TileAsync(tile), await log.ReadTileAsync(tile, CancellationToken.None));
            }
        }
        finally
        {
            await CloseAsync(opened);
        }

        opened = await OpenAsync(dir);
        try
        {
            Assert.Equal(12, opened.Log.Size);
            var record = await opened.Log.LookupAsync("example.com/lost", "v1.0.0", CancellationToken.None);
            Assert.Equal(11, record?.RecordId);
            Assert.Equal(uncommitted, record?.Text);
        }
        finally
        {
            await CloseAsync(opened);
        }
    }

    [Fact]
    public async Task A_crash_before_the_first_head_replacement_leaves_an_empty_log()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await CloseAsync(await OpenAsync(dir));

        AppendBytes(dir, "records.dat", RecordText(Module(0), "v1.0.0"));
        AppendBytes(dir, "records.idx", new byte[8]);
        AppendBytes(dir, "hashes.dat", new byte[32]);
        var opened = await OpenAsync(dir);
        try
        {
            Assert.Equal(0, opened.Log.Size);
            Assert.Equal([0L, 0L, 0L], DataLengths(dir));
            Assert.Equal(0, (await AppendAsync(opened.Log, Module(0))).RecordId);
        }
        finally
        {
            await CloseAsync(opened);
        }
    }

    [Fact]
    public async Task A_second_open_of_an_open_log_fails_until_the_first_is_disposed()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var first = await OpenAsync(dir);
        await AppendAsync(first.Log, Module(0));

        var e = Assert.Throws<IOException>(() => FileHostedLogStorage.Open(dir));
        Assert.Equal($"checksum database log {Path.GetFullPath(dir)} is in use by another process", e.Message);
        Assert.Equal(1, first.Log.Size);
        Assert.Equal(HostedAppendStatus.Added, (await AppendAsync(first.Log, Module(1))).Status);

        await CloseAsync(first);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => first.Storage.ReadStateAsync(CancellationToken.None));
        var second = await OpenAsync(dir);
        Assert.Equal(2, second.Log.Size);
        await CloseAsync(second);
    }

    [Fact]
    public async Task Data_files_shorter_than_the_head_says_are_corruption()
    {
        foreach (var (file, cut) in new[] { ("records.idx", 1), ("hashes.dat", 32), ("records.dat", 1) })
        {
            var dir = TestPaths.NewTempDir("hosted");
            var opened = await OpenAsync(dir, fsync: false);
            await AppendInOrderAsync(opened.Log, new Reference(), 0, 3);
            await CloseAsync(opened);

            var path = Path.Combine(dir, file);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^cut]);
            var e = await OpenFailsAsync(dir);
            Assert.Contains(file, e.Message, StringComparison.Ordinal);

            // Nothing was cut while refusing, and the lock was released.
            Assert.Equal(bytes.Length - cut, new FileInfo(path).Length);
            File.WriteAllBytes(path, bytes);
            var repaired = await OpenAsync(dir);
            Assert.Equal(3, repaired.Log.Size);
            await CloseAsync(repaired);
        }
    }

    [Fact]
    public async Task Damaged_hashes_a_foreign_head_or_data_without_a_head_are_corruption()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var opened = await OpenAsync(dir, fsync: false);
        await AppendInOrderAsync(opened.Log, new Reference(), 0, 3);
        await CloseAsync(opened);

        // A flipped bit in a stored hash no longer gives the signed tree hash.
        var hashes = Path.Combine(dir, "hashes.dat");
        var original = File.ReadAllBytes(hashes);
        var damaged = (byte[])original.Clone();
        damaged[^1] ^= 1;
        File.WriteAllBytes(hashes, damaged);
        Assert.Contains("tree hash", (await OpenFailsAsync(dir)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(hashes, original);

        // Another key's log: the storage opens, the log refuses it.
        var other = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);
        await using (var storage = FileHostedLogStorage.Open(dir))
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => HostedLog.OpenAsync(storage, other));
        }

        // A head that is not a tree note.
        var headPath = Path.Combine(dir, "head");
        var head = File.ReadAllBytes(headPath);
        File.WriteAllText(headPath, "not a note");
        Assert.Contains("head", (await OpenFailsAsync(dir)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(headPath, head);

        // Records without any head.
        File.Delete(headPath);
        Assert.Contains("no signed tree head", (await OpenFailsAsync(dir)).Message, StringComparison.Ordinal);
        Assert.Equal(original.Length, new FileInfo(hashes).Length);
    }

    [Fact]
    public async Task Appends_must_bring_the_right_hashes_and_a_head_of_the_new_size()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var opened = await OpenAsync(dir, fsync: false);
        try
        {
            var storage = opened.Storage;
            var entry = new Warren.Storage.HostedLogEntry("example.com/a", "v1.0.0", RecordText("example.com/a", "v1.0.0"));
            var leaf = Tlog.RecordHash(entry.Text);
            var head1 = new TreeHead(1, leaf).Sign(_signer);
            await Assert.ThrowsAsync<ArgumentException>(() => storage.TryAppendAsync(0, [entry], [], head1, CancellationToken.None));
            await Assert.ThrowsAsync<ArgumentException>(() => storage.TryAppendAsync(0, [entry], [leaf], opened.Log.SignedTreeHead, CancellationToken.None));
            Assert.False(await storage.TryAppendAsync(1, [entry], [leaf, leaf], new TreeHead(2, leaf).Sign(_signer), CancellationToken.None));
            Assert.Equal([0L, 0L, 0L], DataLengths(dir));
            Assert.True(await storage.TryAppendAsync(0, [entry], [leaf], head1, CancellationToken.None));
            Assert.Equal(0L, await storage.FindAsync("example.com/a", "v1.0.0", CancellationToken.None));
            Assert.Equal(head1, File.ReadAllBytes(Path.Combine(dir, "head")));
        }
        finally
        {
            await CloseAsync(opened);
        }
    }

    internal static long[] DataLengths(string dir) =>
        [.. new[] { "records.dat", "records.idx", "hashes.dat" }.Select(name => new FileInfo(Path.Combine(dir, name)).Length)];

    private static void AppendBytes(string dir, string name, byte[] bytes)
    {
        using var stream = new FileStream(Path.Combine(dir, name), FileMode.Append, FileAccess.Write);
        stream.Write(bytes);
    }
}

using System.Buffers.Binary;
using System.Text;
using Warren.Core.SumDb;
using Warren.Server.SumDb;

namespace Warren.Server.Tests.SumDb;

public sealed class HostedLogTests
{
    private const string ServerName = "sum.hosted.example";

    private readonly NoteSigner _signer = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);

    private NoteVerifierList Verifiers => NoteVerifierList.FromKeys(_signer.VerifierKey);

    private static string Module(int i) => $"example.com/m{i}";

    private static string ZipHash(string path, string version) => TestSumDb.FakeHash(path + "@" + version);

    private static string ModHash(string path, string version) => TestSumDb.FakeHash(path + "@" + version + "/go.mod");

    private static byte[] RecordText(string path, string version) =>
        GoSumRecord.FormatBytes(path, version, ZipHash(path, version), ModHash(path, version));

    private static Task<HostedAppendResult> AppendAsync(HostedLog log, string path, string version = "v1.0.0") =>
        log.AppendAsync(path, version, ZipHash(path, version), ModHash(path, version), CancellationToken.None);

    /// <summary>Appends modules [from, to) one at a time (so ids follow i), adding each to the reference log.</summary>
    private static async Task AppendInOrderAsync(HostedLog log, Reference reference, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            var result = await AppendAsync(log, Module(i));
            Assert.Equal(HostedAppendStatus.Added, result.Status);
            Assert.Equal(reference.Count, result.RecordId);
            reference.Add(RecordText(Module(i), "v1.0.0"));
        }
    }

    [Fact]
    public async Task A_new_log_is_empty_and_signs_the_empty_tree()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using var log = HostedLog.Open(dir, _signer, fsync: true);

        Assert.Equal(0, log.Size);
        Assert.Equal(ServerName, log.Name);
        var note = Note.Open(log.SignedTreeHead, Verifiers);
        Assert.Equal("go.sum database tree\n0\n" + Convert.ToBase64String(new byte[32]) + "\n", note.Text);
        Assert.Equal(log.SignedTreeHead, File.ReadAllBytes(Path.Combine(dir, "head")));
        Assert.False(log.TryLookup(Module(0), "v1.0.0", out _, out _));
        Assert.Null(log.LookupResponse(Module(0), "v1.0.0"));
        Assert.Null(await log.ReadTileAsync(new Tile(8, 0, 0, 1), CancellationToken.None));
        Assert.Null(await log.ReadTileAsync(new Tile(8, -1, 0, 1), CancellationToken.None));
        foreach (var name in new[] { "records.dat", "records.idx", "hashes.dat" })
        {
            Assert.Equal(0, new FileInfo(Path.Combine(dir, name)).Length);
        }
    }

    [Fact]
    public async Task Concurrent_appends_are_all_committed_and_existing_records_are_never_rewritten()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using var log = HostedLog.Open(dir, _signer, fsync: true);

        var results = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => Task.Run(() => AppendAsync(log, Module(i)))));
        Assert.All(results, r => Assert.Equal(HostedAppendStatus.Added, r.Status));
        Assert.All(results, r => Assert.Null(r.ExistingZipHash));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), results.Select(r => r.RecordId).Order());
        Assert.Equal(300, log.Size);
        Assert.Equal(300, TreeHead.OpenSigned(log.SignedTreeHead, Verifiers).Size);

        for (int i = 0; i < 300; i++)
        {
            Assert.True(log.TryLookup(Module(i), "v1.0.0", out long id, out var text));
            Assert.Equal(results[i].RecordId, id);
            Assert.Equal(RecordText(Module(i), "v1.0.0"), text);
        }

        // The go.mod line's version finds the same record; the lookup body carries the current signed head.
        Assert.True(log.TryLookup(Module(7), "v1.0.0/go.mod", out long modId, out _));
        Assert.Equal(results[7].RecordId, modId);
        var response = SumDbProtocol.ParseLookupResponse(log.LookupResponse(Module(7), "v1.0.0")!);
        Assert.Equal(results[7].RecordId, response.RecordId);
        Assert.Equal(RecordText(Module(7), "v1.0.0"), response.RecordText.ToArray());
        Assert.Equal(log.SignedTreeHead, response.SignedTree.ToArray());
        Assert.False(log.TryLookup(Module(7), "v1.0.1", out _, out _));
        Assert.Null(log.LookupResponse("example.com/absent", "v1.0.0"));

        var head = log.SignedTreeHead;
        var lengths = DataLengths(dir);

        var again = await AppendAsync(log, Module(5));
        Assert.Equal(new HostedAppendResult(HostedAppendStatus.AlreadyPresent, results[5].RecordId, ZipHash(Module(5), "v1.0.0"), ModHash(Module(5), "v1.0.0")), again);

        var conflict = await log.AppendAsync(Module(6), "v1.0.0", TestSumDb.FakeHash("other zip"), ModHash(Module(6), "v1.0.0"), CancellationToken.None);
        Assert.Equal(new HostedAppendResult(HostedAppendStatus.Conflict, results[6].RecordId, ZipHash(Module(6), "v1.0.0"), ModHash(Module(6), "v1.0.0")), conflict);
        var modConflict = await log.AppendAsync(Module(8), "v1.0.0", ZipHash(Module(8), "v1.0.0"), TestSumDb.FakeHash("other mod"), CancellationToken.None);
        Assert.Equal(HostedAppendStatus.Conflict, modConflict.Status);

        Assert.Equal(300, log.Size);
        Assert.Equal(head, log.SignedTreeHead);
        Assert.Equal(head, File.ReadAllBytes(Path.Combine(dir, "head")));
        Assert.Equal(lengths, DataLengths(dir));
        Assert.True(log.TryLookup(Module(6), "v1.0.0", out _, out var kept));
        Assert.Equal(RecordText(Module(6), "v1.0.0"), kept);
    }

    [Fact]
    public async Task Racing_appends_of_one_new_module_version_add_it_once()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using var log = HostedLog.Open(dir, _signer, fsync: false);
        await AppendAsync(log, Module(0));

        const string path = "example.com/raced";
        var appends = Enumerable.Range(0, 20).Select(i => Task.Run(() => i % 4 == 3
            ? log.AppendAsync(path, "v1.2.3", TestSumDb.FakeHash("rival " + i), ModHash(path, "v1.2.3"), CancellationToken.None)
            : AppendAsync(log, path, "v1.2.3")));
        var results = await Task.WhenAll(appends);

        var winner = Assert.Single(results, r => r.Status == HostedAppendStatus.Added);
        Assert.Equal(1, winner.RecordId);
        Assert.All(results, r => Assert.Equal(1, r.RecordId));
        Assert.Equal(2, log.Size);
        Assert.True(log.TryLookup(path, "v1.2.3", out _, out var text));
        string winnerZip = GoSumRecord.Parse(Encoding.UTF8.GetString(text))[0].Hash;
        foreach (var (result, i) in results.Select((r, i) => (r, i)))
        {
            if (result.Status == HostedAppendStatus.Added)
            {
                continue;
            }

            string mine = i % 4 == 3 ? TestSumDb.FakeHash("rival " + i) : ZipHash(path, "v1.2.3");
            Assert.Equal(mine == winnerZip ? HostedAppendStatus.AlreadyPresent : HostedAppendStatus.Conflict, result.Status);
            Assert.Equal(winnerZip, result.ExistingZipHash);
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(2)]
    public async Task Tiles_equal_those_of_an_in_memory_log_with_the_same_records(int height)
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using var log = HostedLog.Open(dir, _signer, fsync: false, tileHeight: height);
        var reference = new Reference();
        int compared = 0;
        int absent = 0;
        foreach (int size in new[] { 1, 2, 3, 4, 5, 7, 8, 255, 256, 257, 300, 513 })
        {
            await AppendInOrderAsync(log, reference, reference.Count, size);
            Assert.Equal(size, log.Size);
            var tree = TreeHead.OpenSigned(log.SignedTreeHead, Verifiers);
            Assert.Equal(new TreeHead(size, await Tlog.TreeHashAsync(size, reference.Store)), tree);

            for (int level = -1; level <= 64 / height && ((long)size >> (Math.Max(level, 0) * height)) > 0; level++)
            {
                long entries = (long)size >> (Math.Max(level, 0) * height);
                for (long n = 0; n <= entries >> height; n++)
                {
                    for (int w = 1; w <= 1 << height; w++)
                    {
                        var tile = new Tile(height, level, n, w);
                        var actual = await log.ReadTileAsync(tile, CancellationToken.None);
                        if ((n << height) + w > entries)
                        {
                            Assert.Null(actual);
                            absent++;
                            continue;
                        }

                        Assert.NotNull(actual);
                        Assert.Equal(await reference.TileAsync(tile), actual);
                        compared++;
                    }
                }
            }

            // Tiles of another height do not exist; nor do tiles past the tree.
            Assert.Null(await log.ReadTileAsync(new Tile(height == 8 ? 4 : 8, 0, 0, 1), CancellationToken.None));
            Assert.Null(await log.ReadTileAsync(new Tile(height, 0, (size >> height) + 1, 1), CancellationToken.None));
        }

        Assert.True(compared > 1000, $"{compared} tiles compared");
        Assert.True(absent > 100, $"{absent} absent tiles checked");
    }

    [Fact]
    public async Task Lookups_verify_against_the_signed_head_through_the_logs_own_tiles_and_heads_stay_consistent()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using var log = HostedLog.Open(dir, _signer, fsync: false);
        var tiles = new HostedTiles(log);
        var reference = new Reference();
        await AppendInOrderAsync(log, reference, 0, 5);
        var head5 = TreeHead.OpenSigned(log.SignedTreeHead, Verifiers);
        await AppendInOrderAsync(log, reference, 5, 256);
        var head256 = TreeHead.OpenSigned(log.SignedTreeHead, Verifiers);
        await AppendInOrderAsync(log, reference, 256, 300);
        var head300 = TreeHead.OpenSigned(log.SignedTreeHead, Verifiers);

        foreach (int i in new[] { 0, 4, 5, 254, 255, 256, 299 })
        {
            var response = SumDbProtocol.ParseLookupResponse(log.LookupResponse(Module(i), "v1.0.0")!);
            var tree = TreeHead.OpenSigned(response.SignedTree.Span, Verifiers);
            Assert.Equal(head300, tree);
            Assert.Equal(i, response.RecordId);
            await SumDbVerifier.CheckRecordAsync(tree, response.RecordId, response.RecordText, tiles);

            // The proof is real: other text for the record does not verify.
            var forged = Encoding.UTF8.GetBytes(response.RecordTextString.Replace("h1:", "h1:A", StringComparison.Ordinal));
            await Assert.ThrowsAsync<TlogVerificationException>(async () => await SumDbVerifier.CheckRecordAsync(tree, response.RecordId, forged, tiles));
        }

        // Older records also verify against the older heads they were first served with.
        await SumDbVerifier.CheckRecordAsync(head5, 4, reference.Records[4], tiles);
        await SumDbVerifier.CheckRecordAsync(head256, 255, reference.Records[255], tiles);

        await SumDbVerifier.CheckTreesAsync(head5, head300, tiles);
        await SumDbVerifier.CheckTreesAsync(head256, head300, tiles);
        await SumDbVerifier.CheckTreesAsync(head5, head256, tiles);
        await SumDbVerifier.CheckTreesAsync(head300, head300, tiles);

        var forkedHead = head256 with { Hash = await Tlog.TreeHashAsync(255, reference.Store) };
        await Assert.ThrowsAsync<TreeForkException>(async () => await SumDbVerifier.CheckTreesAsync(forkedHead, head300, tiles));
    }

    [Fact]
    public async Task Readers_during_appends_always_see_a_committed_tree_that_proves_what_they_read()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using var log = HostedLog.Open(dir, _signer, fsync: false);
        var tiles = new HostedTiles(log);
        await AppendAsync(log, Module(0));

        using var done = new CancellationTokenSource();
        int checkedCount = 0;
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (!done.IsCancellationRequested)
            {
                long size = log.Size;
                int i = random.Next((int)Math.Min(size + 5, 400));
                var body = log.LookupResponse(Module(i), "v1.0.0");
                if (body is null)
                {
                    continue;
                }

                var response = SumDbProtocol.ParseLookupResponse(body);
                var tree = TreeHead.OpenSigned(response.SignedTree.Span, Verifiers);
                Assert.True(response.RecordId < tree.Size, $"record {response.RecordId} served with tree of size {tree.Size}");
                Assert.Equal(RecordText(Module(i), "v1.0.0"), response.RecordText.ToArray());
                await SumDbVerifier.CheckRecordAsync(tree, response.RecordId, response.RecordText, tiles);
                Interlocked.Increment(ref checkedCount);
            }
        })).ToList();

        // Waves of concurrent appends, so that the tree grows through many commits while the readers run.
        var sizes = new HashSet<long>();
        for (int wave = 0; wave < 21; wave++)
        {
            var appends = await Task.WhenAll(Enumerable.Range(1 + wave * 19, 19).Select(i => Task.Run(() => AppendAsync(log, Module(i)))));
            Assert.All(appends, a => Assert.Equal(HostedAppendStatus.Added, a.Status));
            sizes.Add(log.Size);
            await Task.Delay(2);
        }

        await done.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(400, log.Size);
        Assert.Equal(21, sizes.Count);
        Assert.True(checkedCount > 0);
    }

    [Fact]
    public async Task Everything_persists_across_reopening()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var reference = new Reference();
        var lookups = new Dictionary<int, byte[]>();
        var tileData = new Dictionary<Tile, byte[]>();
        byte[] head;
        await using (var log = HostedLog.Open(dir, _signer, fsync: true))
        {
            await AppendInOrderAsync(log, reference, 0, 300);
            head = log.SignedTreeHead;
            for (int i = 0; i < 300; i++)
            {
                lookups[i] = log.LookupResponse(Module(i), "v1.0.0")!;
            }

            foreach (var tile in Tile.NewTiles(8, 0, 300).Concat(Tile.NewDataTiles(8, 0, 300)))
            {
                tileData[tile] = (await log.ReadTileAsync(tile, CancellationToken.None))!;
            }
        }

        Assert.Equal(1 + 44 + 1 + 1 + 44, tileData.Count); // level 0: 1 full + 44 partial widths; level 1: 1 partial; data: as level 0
        await using (var log = HostedLog.Open(dir, _signer, fsync: true))
        {
            Assert.Equal(300, log.Size);
            Assert.Equal(head, log.SignedTreeHead);
            for (int i = 0; i < 300; i++)
            {
                Assert.Equal(lookups[i], log.LookupResponse(Module(i), "v1.0.0"));
            }

            foreach (var (tile, data) in tileData)
            {
                Assert.Equal(data, await log.ReadTileAsync(tile, CancellationToken.None));
                Assert.Equal(await reference.TileAsync(tile), data);
            }

            // And it keeps growing from where it was.
            var next = await AppendAsync(log, "example.com/after", "v0.1.0");
            Assert.Equal(new HostedAppendResult(HostedAppendStatus.Added, 300, null, null), next);
            Assert.Equal(HostedAppendStatus.AlreadyPresent, (await AppendAsync(log, Module(123))).Status);
        }

        await using (var log = HostedLog.Open(dir, _signer, fsync: true))
        {
            Assert.Equal(301, log.Size);
            Assert.True(log.TryLookup("example.com/after", "v0.1.0", out long id, out _));
            Assert.Equal(300, id);
        }
    }

    [Fact]
    public async Task Reopening_after_a_crash_drops_uncommitted_bytes_and_continues()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var reference = new Reference();
        byte[] head;
        long[] lengths;
        await using (var log = HostedLog.Open(dir, _signer, fsync: true))
        {
            await AppendInOrderAsync(log, reference, 0, 10);
            head = log.SignedTreeHead;
            lengths = DataLengths(dir);
        }

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

        await using (var log = HostedLog.Open(dir, _signer, fsync: true))
        {
            Assert.Equal(10, log.Size);
            Assert.Equal(head, log.SignedTreeHead);
            Assert.Equal(lengths, DataLengths(dir));
            Assert.False(File.Exists(Path.Combine(dir, "head.tmp")));
            Assert.False(log.TryLookup("example.com/lost", "v1.0.0", out _, out _));
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

        await using (var log = HostedLog.Open(dir, _signer, fsync: true))
        {
            Assert.Equal(12, log.Size);
            Assert.True(log.TryLookup("example.com/lost", "v1.0.0", out long id, out var text));
            Assert.Equal(11, id);
            Assert.Equal(uncommitted, text);
        }
    }

    [Fact]
    public async Task A_crash_before_the_first_head_replacement_leaves_an_empty_log()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using (HostedLog.Open(dir, _signer))
        {
        }

        AppendBytes(dir, "records.dat", RecordText(Module(0), "v1.0.0"));
        AppendBytes(dir, "records.idx", new byte[8]);
        AppendBytes(dir, "hashes.dat", new byte[32]);
        await using var log = HostedLog.Open(dir, _signer);
        Assert.Equal(0, log.Size);
        Assert.Equal([0L, 0L, 0L], DataLengths(dir));
        Assert.Equal(0, (await AppendAsync(log, Module(0))).RecordId);
    }

    [Fact]
    public async Task A_second_open_of_an_open_log_fails_until_the_first_is_disposed()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var first = HostedLog.Open(dir, _signer);
        await AppendAsync(first, Module(0));

        var e = Assert.Throws<IOException>(() => HostedLog.Open(dir, _signer));
        Assert.Equal($"checksum database log {Path.GetFullPath(dir)} is in use by another process", e.Message);
        Assert.Equal(1, first.Size);
        Assert.Equal(HostedAppendStatus.Added, (await AppendAsync(first, Module(1))).Status);

        await first.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => AppendAsync(first, Module(2)));
        using var second = HostedLog.Open(dir, _signer);
        Assert.Equal(2, second.Size);
    }

    [Fact]
    public async Task Data_files_shorter_than_the_head_says_are_corruption()
    {
        foreach (var (file, cut) in new[] { ("records.idx", 1), ("hashes.dat", 32), ("records.dat", 1) })
        {
            var dir = TestPaths.NewTempDir("hosted");
            await using (var log = HostedLog.Open(dir, _signer, fsync: false))
            {
                await AppendInOrderAsync(log, new Reference(), 0, 3);
            }

            var path = Path.Combine(dir, file);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^cut]);
            var e = Assert.Throws<InvalidDataException>(() => HostedLog.Open(dir, _signer));
            Assert.Contains(file, e.Message, StringComparison.Ordinal);

            // Nothing was cut while refusing, and the lock was released.
            Assert.Equal(bytes.Length - cut, new FileInfo(path).Length);
            File.WriteAllBytes(path, bytes);
            using var repaired = HostedLog.Open(dir, _signer);
            Assert.Equal(3, repaired.Size);
        }
    }

    [Fact]
    public async Task Damaged_hashes_a_foreign_head_or_data_without_a_head_are_corruption()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using (var log = HostedLog.Open(dir, _signer, fsync: false))
        {
            await AppendInOrderAsync(log, new Reference(), 0, 3);
        }

        // A flipped bit in a stored hash no longer gives the signed tree hash.
        var hashes = Path.Combine(dir, "hashes.dat");
        var original = File.ReadAllBytes(hashes);
        var damaged = (byte[])original.Clone();
        damaged[^1] ^= 1;
        File.WriteAllBytes(hashes, damaged);
        Assert.Contains("tree hash", Assert.Throws<InvalidDataException>(() => HostedLog.Open(dir, _signer)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(hashes, original);

        // Another key's log.
        var other = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);
        Assert.Throws<InvalidDataException>(() => HostedLog.Open(dir, other));

        // Records without any head.
        File.Delete(Path.Combine(dir, "head"));
        Assert.Contains("no signed tree head", Assert.Throws<InvalidDataException>(() => HostedLog.Open(dir, _signer)).Message, StringComparison.Ordinal);
        Assert.Equal(original.Length, new FileInfo(hashes).Length);
    }

    [Fact]
    public async Task Invalid_or_cancelled_appends_write_nothing()
    {
        var dir = TestPaths.NewTempDir("hosted");
        await using var log = HostedLog.Open(dir, _signer, fsync: false);
        var head = log.SignedTreeHead;

        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync("not a path", "v1.0.0", "h1:x", "h1:y", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync("example.com/a", "1.0", "h1:x", "h1:y", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync("example.com/a", "v1.0.0", "h1:x y", "h1:y", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync("example.com/a", "v1.0.0", "h1:x", "", CancellationToken.None));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => log.AppendAsync("example.com/a", "v1.0.0", "h1:x", "h1:y", cancelled.Token));

        Assert.Equal(0, log.Size);
        Assert.Equal(head, log.SignedTreeHead);
        Assert.Equal([0L, 0L, 0L], DataLengths(dir));
        Assert.Equal(0, (await log.AppendAsync("example.com/a", "v1.0.0", "h1:x", "h1:y", CancellationToken.None)).RecordId);
    }

    private static long[] DataLengths(string dir) =>
        [.. new[] { "records.dat", "records.idx", "hashes.dat" }.Select(name => new FileInfo(Path.Combine(dir, name)).Length)];

    private static void AppendBytes(string dir, string name, byte[] bytes)
    {
        using var stream = new FileStream(Path.Combine(dir, name), FileMode.Append, FileAccess.Write);
        stream.Write(bytes);
    }

    /// <summary>The same log in memory, built as TestSumDb builds it.</summary>
    private sealed class Reference
    {
        public MemoryHashStore Store { get; } = new();

        public List<byte[]> Records { get; } = [];

        public int Count => Records.Count;

        public void Add(byte[] text)
        {
            Store.AppendRecord(text);
            Records.Add(text);
        }

        public async Task<byte[]> TileAsync(Tile tile) => tile.IsData
            ? SumDbProtocol.FormatDataTile(tile, Records.GetRange((int)(tile.Number << tile.Height), tile.Width))
            : await Tile.ReadDataAsync(tile, Store);
    }

    /// <summary>Tiles served by the log itself, as a client would fetch them.</summary>
    private sealed class HostedTiles(HostedLog log) : ITileReader
    {
        public int Height => log.TileHeight;

        public async ValueTask<IReadOnlyList<byte[]>> ReadTilesAsync(IReadOnlyList<Tile> tiles, CancellationToken cancellationToken = default)
        {
            var data = new List<byte[]>();
            foreach (var tile in tiles)
            {
                data.Add(await log.ReadTileAsync(tile, cancellationToken) ?? throw new TlogException($"{tile.Path} not found"));
            }

            return data;
        }
    }
}

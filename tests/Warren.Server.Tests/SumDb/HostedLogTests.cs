using System.Text;
using Warren.Core.SumDb;
using Warren.Server.SumDb;
using Warren.Storage;
using Warren.Testing.Storage;
using static Warren.Server.Tests.SumDb.HostedLogTestData;

namespace Warren.Server.Tests.SumDb;

/// <summary>The behaviour of a hosted log, whatever keeps it: each storage runs these through a fixture below.</summary>
public abstract class HostedLogTests
{
    protected NoteSigner Signer { get; } = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);

    protected NoteVerifierList Verifiers => NoteVerifierList.FromKeys(Signer.VerifierKey);

    /// <summary>A new, empty storage.</summary>
    protected abstract Task<IHostedLogStorage> CreateStorageAsync();

    /// <summary>The storage of the same log as opened anew (as after a restart); the old one may be disposed.</summary>
    protected abstract Task<IHostedLogStorage> ReopenAsync(IHostedLogStorage storage);

    protected Task<HostedLog> OpenAsync(IHostedLogStorage storage, int tileHeight = SumDbProtocol.DefaultTileHeight) =>
        HostedLog.OpenAsync(storage, Signer, tileHeight: tileHeight);

    [Fact]
    public async Task A_new_log_is_empty_and_signs_the_empty_tree()
    {
        await using var storage = await CreateStorageAsync();
        await using var log = await OpenAsync(storage);

        Assert.Equal(0, log.Size);
        Assert.Equal(ServerName, log.Name);
        var note = Note.Open(log.SignedTreeHead, Verifiers);
        Assert.Equal("go.sum database tree\n0\n" + Convert.ToBase64String(new byte[32]) + "\n", note.Text);
        Assert.Equal(log.SignedTreeHead, (await storage.ReadStateAsync(CancellationToken.None))!.SignedHead);
        Assert.Equal(log.SignedTreeHead, await log.GetLatestAsync(CancellationToken.None));
        Assert.Null(await log.LookupAsync(Module(0), "v1.0.0", CancellationToken.None));
        Assert.Null(await log.LookupResponseAsync(Module(0), "v1.0.0", CancellationToken.None));
        Assert.Null(await log.ReadTileAsync(new Tile(8, 0, 0, 1), CancellationToken.None));
        Assert.Null(await log.ReadTileAsync(new Tile(8, -1, 0, 1), CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_appends_are_all_committed_and_existing_records_are_never_rewritten()
    {
        await using var storage = await CreateStorageAsync();
        await using var log = await OpenAsync(storage);

        var results = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => Task.Run(() => AppendAsync(log, Module(i)))));
        Assert.All(results, r => Assert.Equal(HostedAppendStatus.Added, r.Status));
        Assert.All(results, r => Assert.Null(r.ExistingZipHash));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), results.Select(r => r.RecordId).Order());
        Assert.Equal(300, log.Size);
        Assert.Equal(300, TreeHead.OpenSigned(log.SignedTreeHead, Verifiers).Size);

        for (int i = 0; i < 300; i++)
        {
            var record = await log.LookupAsync(Module(i), "v1.0.0", CancellationToken.None);
            Assert.NotNull(record);
            Assert.Equal(results[i].RecordId, record.RecordId);
            Assert.Equal(RecordText(Module(i), "v1.0.0"), record.Text);
        }

        // The go.mod line's version finds the same record; the lookup body carries the current signed head.
        Assert.Equal(results[7].RecordId, (await log.LookupAsync(Module(7), "v1.0.0/go.mod", CancellationToken.None))?.RecordId);
        var response = SumDbProtocol.ParseLookupResponse((await log.LookupResponseAsync(Module(7), "v1.0.0", CancellationToken.None))!);
        Assert.Equal(results[7].RecordId, response.RecordId);
        Assert.Equal(RecordText(Module(7), "v1.0.0"), response.RecordText.ToArray());
        Assert.Equal(log.SignedTreeHead, response.SignedTree.ToArray());
        Assert.Null(await log.LookupAsync(Module(7), "v1.0.1", CancellationToken.None));
        Assert.Null(await log.LookupResponseAsync("example.com/absent", "v1.0.0", CancellationToken.None));

        var head = log.SignedTreeHead;

        var again = await AppendAsync(log, Module(5));
        Assert.Equal(new HostedAppendResult(HostedAppendStatus.AlreadyPresent, results[5].RecordId, ZipHash(Module(5), "v1.0.0"), ModHash(Module(5), "v1.0.0")), again);

        var conflict = await log.AppendAsync(Module(6), "v1.0.0", TestSumDb.FakeHash("other zip"), ModHash(Module(6), "v1.0.0"), CancellationToken.None);
        Assert.Equal(new HostedAppendResult(HostedAppendStatus.Conflict, results[6].RecordId, ZipHash(Module(6), "v1.0.0"), ModHash(Module(6), "v1.0.0")), conflict);
        var modConflict = await log.AppendAsync(Module(8), "v1.0.0", ZipHash(Module(8), "v1.0.0"), TestSumDb.FakeHash("other mod"), CancellationToken.None);
        Assert.Equal(HostedAppendStatus.Conflict, modConflict.Status);

        Assert.Equal(300, log.Size);
        Assert.Equal(head, log.SignedTreeHead);
        var state = await storage.ReadStateAsync(CancellationToken.None);
        Assert.Equal(300, state!.Size);
        Assert.Equal(head, state.SignedHead);
        Assert.Equal(RecordText(Module(6), "v1.0.0"), (await log.LookupAsync(Module(6), "v1.0.0", CancellationToken.None))!.Text);
    }

    [Fact]
    public async Task Racing_appends_of_one_new_module_version_add_it_once()
    {
        await using var storage = await CreateStorageAsync();
        await using var log = await OpenAsync(storage);
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
        var text = (await log.LookupAsync(path, "v1.2.3", CancellationToken.None))!.Text;
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
        await using var storage = await CreateStorageAsync();
        await using var log = await OpenAsync(storage, height);
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
        await using var storage = await CreateStorageAsync();
        await using var log = await OpenAsync(storage);
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
            var response = SumDbProtocol.ParseLookupResponse((await log.LookupResponseAsync(Module(i), "v1.0.0", CancellationToken.None))!);
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
        await using var storage = await CreateStorageAsync();
        await using var log = await OpenAsync(storage);
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
                var body = await log.LookupResponseAsync(Module(i), "v1.0.0", CancellationToken.None);
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
        var storage = await CreateStorageAsync();
        var reference = new Reference();
        var lookups = new Dictionary<int, byte[]>();
        var tileData = new Dictionary<Tile, byte[]>();
        byte[] head;
        await using (var log = await OpenAsync(storage))
        {
            await AppendInOrderAsync(log, reference, 0, 300);
            head = log.SignedTreeHead;
            for (int i = 0; i < 300; i++)
            {
                lookups[i] = (await log.LookupResponseAsync(Module(i), "v1.0.0", CancellationToken.None))!;
            }

            foreach (var tile in Tile.NewTiles(8, 0, 300).Concat(Tile.NewDataTiles(8, 0, 300)))
            {
                tileData[tile] = (await log.ReadTileAsync(tile, CancellationToken.None))!;
            }
        }

        Assert.Equal(1 + 44 + 1 + 1 + 44, tileData.Count); // level 0: 1 full + 44 partial widths; level 1: 1 partial; data: as level 0
        storage = await ReopenAsync(storage);
        await using (var log = await OpenAsync(storage))
        {
            Assert.Equal(300, log.Size);
            Assert.Equal(head, log.SignedTreeHead);
            for (int i = 0; i < 300; i++)
            {
                Assert.Equal(lookups[i], await log.LookupResponseAsync(Module(i), "v1.0.0", CancellationToken.None));
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

        storage = await ReopenAsync(storage);
        await using (storage)
        await using (var log = await OpenAsync(storage))
        {
            Assert.Equal(301, log.Size);
            Assert.Equal(300, (await log.LookupAsync("example.com/after", "v0.1.0", CancellationToken.None))?.RecordId);
        }
    }

    [Fact]
    public async Task Invalid_or_cancelled_appends_write_nothing()
    {
        await using var storage = await CreateStorageAsync();
        await using var log = await OpenAsync(storage);
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
        var state = await storage.ReadStateAsync(CancellationToken.None);
        Assert.Equal(0, state!.Size);
        Assert.Equal(head, state.SignedHead);
        Assert.Equal(0, (await log.AppendAsync("example.com/a", "v1.0.0", "h1:x", "h1:y", CancellationToken.None)).RecordId);
    }

    [Fact]
    public async Task A_disposed_log_refuses_appends_and_leaves_its_storage_open()
    {
        await using var storage = await CreateStorageAsync();
        var log = await OpenAsync(storage);
        await AppendAsync(log, Module(0));
        await log.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => AppendAsync(log, Module(1)));
        Assert.Equal(1, (await storage.ReadStateAsync(CancellationToken.None))!.Size);
        await using var again = await OpenAsync(storage);
        Assert.Equal(1, again.Size);
    }

    [Fact]
    public async Task A_head_signed_by_another_key_is_refused()
    {
        await using var storage = await CreateStorageAsync();
        await using (var log = await OpenAsync(storage))
        {
            await AppendAsync(log, Module(0));
        }

        var other = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => HostedLog.OpenAsync(storage, other));
        Assert.Contains("not a tree head signed by", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>The hosted log behaviour on the in-memory reference storage.</summary>
public sealed class HostedLogOnMemoryStorageTests : HostedLogTests
{
    protected override Task<IHostedLogStorage> CreateStorageAsync() => Task.FromResult<IHostedLogStorage>(new MemoryHostedLogStorage());

    protected override Task<IHostedLogStorage> ReopenAsync(IHostedLogStorage storage) => Task.FromResult(storage);
}

/// <summary>The hosted log behaviour on the file storage.</summary>
public sealed class HostedLogOnFileStorageTests : HostedLogTests
{
    private readonly Dictionary<IHostedLogStorage, string> _directories = [];

    protected override Task<IHostedLogStorage> CreateStorageAsync()
    {
        var dir = TestPaths.NewTempDir("hosted");
        var storage = FileHostedLogStorage.Open(dir, fsync: false);
        _directories[storage] = dir;
        return Task.FromResult<IHostedLogStorage>(storage);
    }

    protected override async Task<IHostedLogStorage> ReopenAsync(IHostedLogStorage storage)
    {
        var dir = _directories[storage];
        await storage.DisposeAsync();
        var reopened = FileHostedLogStorage.Open(dir, fsync: true);
        _directories[reopened] = dir;
        return reopened;
    }
}

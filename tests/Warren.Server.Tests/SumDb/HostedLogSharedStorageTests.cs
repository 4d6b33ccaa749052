using Warren.Core.SumDb;
using Warren.Server.SumDb;
using Warren.Storage;
using Warren.Testing.Storage;
using static Warren.Server.Tests.SumDb.HostedLogTestData;

namespace Warren.Server.Tests.SumDb;

/// <summary>Two hosted log instances on one storage, as two nodes of a cluster: appends from both end in one tree.</summary>
public sealed class HostedLogSharedStorageTests
{
    private readonly NoteSigner _signer = NoteSigner.Parse(NoteKeys.GenerateKey(ServerName).SignerKey);

    private NoteVerifierList Verifiers => NoteVerifierList.FromKeys(_signer.VerifierKey);

    [Fact]
    public async Task Two_instances_appending_concurrently_end_serving_one_signed_tree_that_proves_every_record()
    {
        var storage = new MemoryHostedLogStorage();
        await using var a = await HostedLog.OpenAsync(storage, _signer);
        await using var b = await HostedLog.OpenAsync(storage, _signer);

        var appends = Enumerable.Range(0, 50).SelectMany(i => new[]
        {
            Task.Run(() => AppendAsync(a, $"example.com/a{i}")),
            Task.Run(() => AppendAsync(b, $"example.com/b{i}")),
        });
        var results = await Task.WhenAll(appends);
        Assert.All(results, r => Assert.Equal(HostedAppendStatus.Added, r.Status));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), results.Select(r => r.RecordId).Order());
        Assert.True(storage.RefusedCount > 0, "the instances never raced: the test proves nothing");

        await a.RefreshAsync(CancellationToken.None);
        await b.RefreshAsync(CancellationToken.None);
        Assert.Equal(100, a.Size);
        Assert.Equal(a.SignedTreeHead, b.SignedTreeHead);
        Assert.Equal((await storage.ReadStateAsync(CancellationToken.None))!.SignedHead, a.SignedTreeHead);
        var tree = TreeHead.OpenSigned(a.SignedTreeHead, Verifiers);
        Assert.Equal(100, tree.Size);

        // Every record is found by both and proved against the final head with the tiles either serves.
        var reference = new MemoryHashStore();
        foreach (var text in await storage.ReadRecordsAsync(0, 100, CancellationToken.None))
        {
            reference.AppendRecord(text);
        }

        Assert.Equal(tree.Hash, await Tlog.TreeHashAsync(100, reference));
        foreach (var path in Enumerable.Range(0, 50).SelectMany(i => new[] { $"example.com/a{i}", $"example.com/b{i}" }))
        {
            foreach (var (log, other) in new[] { (a, b), (b, a) })
            {
                var body = await log.LookupResponseAsync(path, "v1.0.0", CancellationToken.None);
                Assert.NotNull(body);
                var response = SumDbProtocol.ParseLookupResponse(body);
                Assert.Equal(RecordText(path, "v1.0.0"), response.RecordText.ToArray());
                Assert.Equal(tree, TreeHead.OpenSigned(response.SignedTree.Span, Verifiers));
                var proof = await Tlog.ProveRecordAsync(tree.Size, response.RecordId, reference);
                Tlog.CheckRecord(proof, tree.Size, tree.Hash, response.RecordId, Tlog.RecordHash(response.RecordText.Span));
                await SumDbVerifier.CheckRecordAsync(tree, response.RecordId, response.RecordText, new HostedTiles(other));
            }
        }
    }

    [Fact]
    public async Task An_append_the_other_instance_logged_with_other_hashes_is_a_conflict()
    {
        var storage = new MemoryHostedLogStorage();
        await using var a = await HostedLog.OpenAsync(storage, _signer);
        await using var b = await HostedLog.OpenAsync(storage, _signer);
        await AppendAsync(a, Module(0));
        var added = await AppendAsync(a, "example.com/contested", "v1.0.0");
        Assert.Equal(HostedAppendStatus.Added, added.Status);

        // b still serves the empty tree it read at open, but finds the record in the storage.
        Assert.Equal(0, b.Size);
        var conflict = await b.AppendAsync("example.com/contested", "v1.0.0", TestSumDb.FakeHash("other"), ModHash("example.com/contested", "v1.0.0"), CancellationToken.None);
        Assert.Equal(new HostedAppendResult(HostedAppendStatus.Conflict, added.RecordId, ZipHash("example.com/contested", "v1.0.0"), ModHash("example.com/contested", "v1.0.0")), conflict);
        var same = await AppendAsync(b, "example.com/contested", "v1.0.0");
        Assert.Equal(HostedAppendStatus.AlreadyPresent, same.Status);
        Assert.Equal(2, (await storage.ReadStateAsync(CancellationToken.None))!.Size);
    }

    [Fact]
    public async Task Appends_that_lose_the_race_are_retried_at_the_new_size_and_logged_ones_are_answered_from_the_log()
    {
        var storage = new MemoryHostedLogStorage();
        await using var a = await HostedLog.OpenAsync(storage, _signer);
        await using var b = await HostedLog.OpenAsync(storage, _signer);

        // a logs m1 (with other hashes) and m2 behind b's back: b's append of m0 at size 0 loses the race.
        var rival = await a.AppendAsync(Module(1), "v1.0.0", TestSumDb.FakeHash("rival"), ModHash(Module(1), "v1.0.0"), CancellationToken.None);
        Assert.Equal(0, rival.RecordId);
        await AppendAsync(a, Module(2));
        int refused = storage.RefusedCount;

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => AppendAsync(b, Module(i))));
        Assert.Equal(HostedAppendStatus.Added, results[0].Status);
        Assert.Equal(HostedAppendStatus.Conflict, results[1].Status);
        Assert.Equal(0, results[1].RecordId);
        Assert.Equal(TestSumDb.FakeHash("rival"), results[1].ExistingZipHash);
        Assert.Equal(HostedAppendStatus.AlreadyPresent, results[2].Status);
        Assert.Equal(2, results[0].RecordId);
        Assert.Equal(3, b.Size);
        Assert.True(storage.RefusedCount > refused);
        Assert.Equal(3, TreeHead.OpenSigned((await storage.ReadStateAsync(CancellationToken.None))!.SignedHead, Verifiers).Size);
    }

    [Fact]
    public async Task Reads_show_the_other_instances_appends_lookups_and_tiles_at_once_latest_within_the_bound()
    {
        var storage = new MemoryHostedLogStorage();
        var time = new ManualTimeProvider();
        await using var a = await HostedLog.OpenAsync(storage, _signer, time);
        await using var b = await HostedLog.OpenAsync(storage, _signer, time);
        var emptyHead = await b.GetLatestAsync(CancellationToken.None);

        await AppendAsync(a, Module(0));
        await AppendAsync(a, Module(1));

        // The served head is kept for up to StateMaxAge…
        Assert.Equal(emptyHead, await b.GetLatestAsync(CancellationToken.None));
        time.Advance(HostedLog.StateMaxAge);
        Assert.Equal(a.SignedTreeHead, await b.GetLatestAsync(CancellationToken.None));
        Assert.Equal(2, b.Size);

        // …while a lookup or a tile beyond the served tree reads the state again at once.
        await AppendAsync(a, Module(2));
        var tile = await b.ReadTileAsync(new Tile(8, 0, 0, 3), CancellationToken.None);
        Assert.NotNull(tile);
        Assert.Equal(3, b.Size);
        await AppendAsync(a, Module(3));
        var response = SumDbProtocol.ParseLookupResponse((await b.LookupResponseAsync(Module(3), "v1.0.0", CancellationToken.None))!);
        Assert.Equal(3, response.RecordId);
        Assert.Equal(4, TreeHead.OpenSigned(response.SignedTree.Span, Verifiers).Size);
        Assert.Null(await b.ReadTileAsync(new Tile(8, 0, 0, 5), CancellationToken.None));
    }

    [Fact]
    public async Task An_append_whose_commit_failed_after_all_is_found_afterwards_and_not_logged_twice()
    {
        var inner = new MemoryHostedLogStorage();
        var storage = new FailingAfterCommitStorage(inner);
        await using var log = await HostedLog.OpenAsync(storage, _signer);
        await AppendAsync(log, Module(0));

        // The storage commits, then reports a failure (as a connection lost before the answer would).
        storage.FailNext = true;
        await Assert.ThrowsAsync<IOException>(() => AppendAsync(log, Module(1)));
        Assert.Equal(2, (await inner.ReadStateAsync(CancellationToken.None))!.Size);

        var again = await AppendAsync(log, Module(1));
        Assert.Equal(new HostedAppendResult(HostedAppendStatus.AlreadyPresent, 1, ZipHash(Module(1), "v1.0.0"), ModHash(Module(1), "v1.0.0")), again);
        Assert.Equal(2, (await AppendAsync(log, Module(2))).RecordId);
        Assert.Equal(3, log.Size);
        Assert.Equal(3, TreeHead.OpenSigned(log.SignedTreeHead, Verifiers).Size);
    }

    /// <summary>Passes everything to a storage; when told, throws after an append it committed.</summary>
    private sealed class FailingAfterCommitStorage(IHostedLogStorage inner) : IHostedLogStorage
    {
        public bool FailNext { get; set; }

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
            if (FailNext)
            {
                FailNext = false;
                throw new IOException("connection lost");
            }

            return appended;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

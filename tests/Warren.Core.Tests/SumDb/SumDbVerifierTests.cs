using System.Text;
using Warren.Core.SumDb;

namespace Warren.Core.Tests.SumDb;

// A checksum-database client's checks over tiles: client_test.go's bad-tile and fork scenarios.
public class SumDbVerifierTests
{
    private static async Task<(MemoryHashStore Store, List<byte[]> Records)> LogAsync(int size, string salt = "")
    {
        var store = new MemoryHashStore();
        var records = new List<byte[]>();
        for (int i = 0; i < size; i++)
        {
            var record = GoSumRecord.FormatBytes($"example.com/m{i}{salt}", "v1.0.0", "h1:zip" + i, "h1:mod" + i);
            records.Add(record);
            store.Append(await Tlog.StoredHashesAsync(i, record, store));
        }

        return (store, records);
    }

    private static async Task<Dictionary<Tile, byte[]>> TilesAsync(MemoryHashStore store, int height, long size)
    {
        var tiles = new Dictionary<Tile, byte[]>();
        foreach (var tile in Tile.NewTiles(height, 0, size))
        {
            tiles[tile] = await Tile.ReadDataAsync(tile, store);
        }

        return tiles;
    }

    [Theory]
    [InlineData(8, 1)]
    [InlineData(8, 300)]
    [InlineData(2, 70)]
    [InlineData(1, 33)]
    public async Task CheckRecord_AcceptsEveryRecord_RejectsOthers(int height, int size)
    {
        var (store, records) = await LogAsync(size);
        var tree = new TreeHead(size, await Tlog.TreeHashAsync(size, store));
        var tiles = new DictionaryTileReader(height, await TilesAsync(store, height, size));
        for (int i = 0; i < size; i++)
        {
            await SumDbVerifier.CheckRecordAsync(tree, i, records[i], tiles);
        }

        var e = await Assert.ThrowsAsync<TlogVerificationException>(async () =>
            await SumDbVerifier.CheckRecordAsync(tree, 0, "example.com/evil v1.0.0 h1:x\n"u8.ToArray(), tiles));
        Assert.Equal("cannot authenticate record data in server response", e.Message);
        var e2 = await Assert.ThrowsAsync<TlogException>(async () => await SumDbVerifier.CheckRecordAsync(tree, size, records[0], tiles));
        Assert.Equal($"cannot validate record {size} in tree of size {size}", e2.Message);
        Assert.Equal(0, tiles.Unsaved);
    }

    [Fact]
    public async Task FlippedTileBits_AreDetected()
    {
        var (store, records) = await LogAsync(20);
        var tree = new TreeHead(20, await Tlog.TreeHashAsync(20, store));
        var tiles = await TilesAsync(store, 2, 20);
        foreach (var victim in tiles.Keys.ToList())
        {
            var original = tiles[victim];
            var flipped = original.Select(b => (byte)(b ^ 0x80)).ToArray();
            tiles[victim] = flipped;
            for (int i = 0; i < 20; i++)
            {
                var reader = new DictionaryTileReader(2, tiles);
                try
                {
                    await SumDbVerifier.CheckRecordAsync(tree, i, records[i], reader);
                    Assert.DoesNotContain(victim, reader.Requested);
                    Assert.Equal(0, reader.Unsaved);
                }
                catch (TlogVerificationException e)
                {
                    Assert.Equal("downloaded inconsistent tile", e.Message);
                    Assert.Contains(victim, reader.Requested);

                    // Nothing was reported authenticated.
                    Assert.Equal(reader.Requested.Count, reader.Unsaved);
                }
            }

            tiles[victim] = original;
        }
    }

    [Fact]
    public async Task EveryTileUsed_IsAuthenticated()
    {
        // For each record and each tile the reader uses, corrupting that tile alone makes the read fail.
        for (int size = 1; size <= 40; size++)
        {
            var (store, records) = await LogAsync(size);
            var tree = new TreeHead(size, await Tlog.TreeHashAsync(size, store));
            var tiles = await TilesAsync(store, 2, size);
            for (int i = 0; i < size; i++)
            {
                var probe = new DictionaryTileReader(2, tiles);
                await SumDbVerifier.CheckRecordAsync(tree, i, records[i], probe);
                foreach (var used in probe.Requested.Distinct())
                {
                    var original = tiles[used];
                    tiles[used] = original.Select(b => (byte)(b ^ 1)).ToArray();
                    await Assert.ThrowsAsync<TlogVerificationException>(async () =>
                        await SumDbVerifier.CheckRecordAsync(tree, i, records[i], new DictionaryTileReader(2, tiles)));
                    tiles[used] = original;
                }
            }
        }
    }

    [Fact]
    public async Task CheckTrees_AcceptsGrowth()
    {
        var (store, _) = await LogAsync(100);
        var tiles = new StoreTileReader(2, store);
        var newer = new TreeHead(100, await Tlog.TreeHashAsync(100, store));
        for (int n = 0; n <= 100; n += 7)
        {
            await SumDbVerifier.CheckTreesAsync(new TreeHead(n, await Tlog.TreeHashAsync(n, store)), newer, tiles);
        }

        await SumDbVerifier.CheckTreesAsync(newer, newer, tiles);
        await Assert.ThrowsAsync<ArgumentException>(async () => await SumDbVerifier.CheckTreesAsync(newer, new TreeHead(5, default), tiles));
    }

    [Fact]
    public async Task CheckTrees_DetectsFork_WithProof()
    {
        // Two logs that agree on 10 records then diverge: a tree head of the first, then one of the second.
        var (a, _) = await LogAsync(13);
        var (b, bRecords) = await LogAsync(10);
        for (int i = 10; i < 30; i++)
        {
            var record = Encoding.UTF8.GetBytes($"example.com/fork{i} v1.0.0 h1:x\n");
            bRecords.Add(record);
            b.Append(await Tlog.StoredHashesAsync(i, record, b));
        }

        var older = new TreeHead(13, await Tlog.TreeHashAsync(13, a));
        var newer = new TreeHead(30, await Tlog.TreeHashAsync(30, b));
        var tiles = new StoreTileReader(8, b);
        var e = await Assert.ThrowsAsync<TreeForkException>(async () => await SumDbVerifier.CheckTreesAsync(older, newer, tiles));
        Assert.Equal(older, e.Older);
        Assert.Equal(newer, e.Newer);
        Assert.NotEqual(older.Hash, e.NewerHashOfOlderSize);
        Assert.Equal(await Tlog.TreeHashAsync(13, b), e.NewerHashOfOlderSize);

        // The evidence stands on its own: the newer tree provably contains a different 13-record tree.
        Tlog.CheckTree(e.Proof, newer.Size, newer.Hash, older.Size, e.NewerHashOfOlderSize);
        Assert.Contains("misbehavior", e.Message, StringComparison.Ordinal);

        // Same size, different hash: also a fork.
        await Assert.ThrowsAsync<TreeForkException>(async () =>
            await SumDbVerifier.CheckTreesAsync(new TreeHead(30, older.Hash), newer, tiles));
    }

    [Fact]
    public async Task CheckTrees_InconsistentTiles_AreReportedWithContext()
    {
        var (store, _) = await LogAsync(20);
        var tiles = await TilesAsync(store, 2, 20);
        var newer = new TreeHead(20, await Tlog.TreeHashAsync(20, store));
        var older = new TreeHead(5, await Tlog.TreeHashAsync(5, store));
        foreach (var key in tiles.Keys.ToList())
        {
            tiles[key] = tiles[key].Select(x => (byte)(x ^ 0x80)).ToArray();
        }

        var e = await Assert.ThrowsAsync<TlogVerificationException>(async () =>
            await SumDbVerifier.CheckTreesAsync(older, newer, new DictionaryTileReader(2, tiles)));
        Assert.Equal("checking tree#5 against tree#20: downloaded inconsistent tile", e.Message);
    }

    [Fact]
    public async Task PartialTileServedOnlyInFull_IsTrimmed()
    {
        // The log grew past a partial tile; the server only has the full one now.
        var (store, records) = await LogAsync(300);
        var tiles = await TilesAsync(store, 8, 300);
        var tree = new TreeHead(200, await Tlog.TreeHashAsync(200, store));
        var reader = new DictionaryTileReader(8, tiles.Where(kv => kv.Key.IsFull || kv.Key.Width > 200 || kv.Key.Level > 0)
            .ToDictionary(kv => kv.Key, kv => kv.Value));
        Assert.DoesNotContain(new Tile(8, 0, 0, 200), reader.Tiles.Keys);
        await SumDbVerifier.CheckRecordAsync(tree, 150, records[150], reader);
        Assert.Contains(new Tile(8, 0, 0, 200), reader.Requested);
    }

    [Fact]
    public async Task TileHashReader_ContractViolations()
    {
        var (store, _) = await LogAsync(5);
        var tree = new TreeHead(5, await Tlog.TreeHashAsync(5, store));
        var reader = new TileHashReader(tree, new ShortTiles());
        await Assert.ThrowsAsync<TlogException>(async () => await reader.ReadHashesAsync([0]));
        await Assert.ThrowsAsync<TlogException>(async () => await reader.ReadHashesAsync([-1]));
        Assert.Empty(await reader.ReadHashesAsync([]));
        await Assert.ThrowsAsync<TlogException>(async () =>
            await new TileHashReader(new TreeHead(0, default), new ShortTiles()).ReadHashesAsync([0]));
    }

    private sealed class ShortTiles : ITileReader
    {
        public int Height => 2;

        public ValueTask<IReadOnlyList<byte[]>> ReadTilesAsync(IReadOnlyList<Tile> tiles, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IReadOnlyList<byte[]>>([.. tiles.Select(_ => new byte[1])]);
    }
}

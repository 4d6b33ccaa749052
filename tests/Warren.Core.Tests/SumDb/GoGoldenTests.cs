using System.Text;
using Warren.Core.SumDb;

namespace Warren.Core.Tests.SumDb;

// Cross-checks against values produced by golang.org/x/mod's real sumdb code (see GoGolden.cs).
public class GoGoldenTests
{
    private static async Task<MemoryHashStore> BuildLogAsync(int size = GoGolden.LogSize)
    {
        var store = new MemoryHashStore();
        for (int i = 0; i < size; i++)
        {
            var hashes = await Tlog.StoredHashesAsync(i, Encoding.UTF8.GetBytes(GoGolden.Record(i)), store);
            store.Append(hashes);
        }

        return store;
    }

    [Fact]
    public async Task StoredHashes_AndTreeHashes_MatchGo()
    {
        var store = await BuildLogAsync();
        Assert.Equal(GoGolden.StoredHashes, Enumerable.Range(0, (int)store.Count).Select(i => store[i].ToString()));
        for (int n = 1; n <= GoGolden.LogSize; n++)
        {
            Assert.Equal(GoGolden.TreeHashes[n - 1], (await Tlog.TreeHashAsync(n, store)).ToString());
        }
    }

    [Fact]
    public async Task AppendRecord_BuildsTheSameLog()
    {
        var store = new MemoryHashStore();
        for (int i = 0; i < GoGolden.LogSize; i++)
        {
            Assert.Equal(i, store.AppendRecord(Encoding.UTF8.GetBytes(GoGolden.Record(i))));
        }

        Assert.Equal(GoGolden.TreeHashes[^1], (await Tlog.TreeHashAsync(GoGolden.LogSize, store)).ToString());
    }

    [Fact]
    public async Task Proofs_MatchGo()
    {
        var store = await BuildLogAsync();
        foreach (var (t, n, proof) in GoGolden.RecordProofs)
        {
            var p = await Tlog.ProveRecordAsync(t, n, store);
            Assert.Equal(proof, p.Select(h => h.ToString()));
            Tlog.CheckRecord([.. proof.Select(LogHash.Parse)], t, LogHash.Parse(GoGolden.TreeHashes[t - 1]), n,
                Tlog.RecordHash(Encoding.UTF8.GetBytes(GoGolden.Record((int)n))));
        }

        foreach (var (t, n, proof) in GoGolden.TreeProofs)
        {
            var p = await Tlog.ProveTreeAsync(t, n, store);
            Assert.Equal(proof, p.Select(h => h.ToString()));
            Tlog.CheckTree([.. proof.Select(LogHash.Parse)], t, LogHash.Parse(GoGolden.TreeHashes[t - 1]), n,
                LogHash.Parse(GoGolden.TreeHashes[n - 1]));
        }
    }

    [Fact]
    public async Task TileData_MatchesGo()
    {
        var store = await BuildLogAsync();
        foreach (var (path, data) in GoGolden.Tiles)
        {
            Assert.Equal(data, Convert.ToBase64String(await Tile.ReadDataAsync(Tile.ParsePath(path), store)));
        }
    }

    [Fact]
    public async Task ServedTiles_MatchGoServer()
    {
        var store = await BuildLogAsync();
        foreach (var (path, body) in GoGolden.ServedTiles)
        {
            var tile = Tile.ParsePath(path);
            byte[] mine;
            if (tile.IsData)
            {
                long first = tile.Number << tile.Height;
                var records = Enumerable.Range((int)first, tile.Width).Select(i => Encoding.UTF8.GetBytes(GoGolden.Record(i))).ToList();
                mine = SumDbProtocol.FormatDataTile(tile, records);
                var parsed = SumDbProtocol.ParseDataTile(Convert.FromBase64String(body));
                Assert.Equal(Enumerable.Range((int)first, tile.Width).Select(i => (long)i), parsed.Select(r => r.Id));
                Assert.Equal(records, parsed.Select(r => r.Text));
            }
            else
            {
                mine = await Tile.ReadDataAsync(tile, store);
            }

            Assert.Equal(body, Convert.ToBase64String(mine));
        }
    }

    [Fact]
    public void Latest_VerifiesAndParses()
    {
        var tree = TreeHead.OpenSigned(Encoding.UTF8.GetBytes(GoGolden.Latest), NoteVerifierList.FromKeys(GoGolden.ServerVerifierKey));
        Assert.Equal(GoGolden.LogSize, tree.Size);
        Assert.Equal(GoGolden.TreeHashes[^1], tree.Hash.ToString());

        // Warren signs the same tree head to the same bytes (Ed25519 is deterministic).
        Assert.Equal(GoGolden.Latest, Encoding.UTF8.GetString(tree.Sign(NoteSigner.Parse(GoGolden.ServerSignerKey))));
    }

    [Fact]
    public async Task Lookups_VerifyAsTheGoCommandDoes()
    {
        var verifiers = NoteVerifierList.FromKeys(GoGolden.ServerVerifierKey);
        var latest = TreeHead.OpenSigned(Encoding.UTF8.GetBytes(GoGolden.Latest), verifiers);
        var store = await BuildLogAsync();
        var tiles = new StoreTileReader(SumDbProtocol.DefaultTileHeight, store);
        foreach (var (path, version, body) in GoGolden.Lookups)
        {
            var response = SumDbProtocol.ParseLookupResponse(Encoding.UTF8.GetBytes(body));
            var tree = TreeHead.OpenSigned(response.SignedTree.Span, verifiers);
            Assert.Equal(response.RecordId + 1, tree.Size);

            // The record is in the tree it came with, and that tree is a prefix of the latest.
            await SumDbVerifier.CheckRecordAsync(tree, response.RecordId, response.RecordText, tiles);
            await SumDbVerifier.CheckTreesAsync(tree, latest, tiles);

            var lines = GoSumRecord.SelectLines(response.RecordTextString, path, version);
            Assert.Equal(GoGolden.Record((int)response.RecordId).Split('\n')[0], Assert.Single(lines));
            Assert.Single(GoSumRecord.SelectLines(response.RecordTextString, path, version + "/go.mod"));

            // Warren's server formats the same response.
            var formatted = SumDbProtocol.FormatLookupResponse(response.RecordId, response.RecordText.Span, response.SignedTree.Span);
            Assert.Equal(body, Encoding.UTF8.GetString(formatted));
        }
    }

    [Fact]
    public async Task TileHashReader_RejectsCorruptChildTile_WhereGoDidNot()
    {
        // Tree of 7 at height 2: its tree-hash indexes share tile/2/0/001.p/3, so reading record 0 needs
        // tile/2/0/000 checked against tile/2/1/000.p/1. Go 1.19's reader skipped that check (GoGolden records the forged
        // hash it returned); this one must reject the tile.
        var store = await BuildLogAsync(7);
        var tiles = new Dictionary<Tile, byte[]>();
        foreach (var tile in Tile.NewTiles(2, 0, 7))
        {
            tiles[tile] = await Tile.ReadDataAsync(tile, store);
        }

        var tree = new TreeHead(7, await Tlog.TreeHashAsync(7, store));
        var honest = new TileHashReader(tree, new DictionaryTileReader(2, tiles));
        Assert.Equal(store[0], (await honest.ReadHashesAsync([0]))[0]);

        tiles[new Tile(2, 0, 0, 4)] = Enumerable.Repeat((byte)0x55, 4 * LogHash.Size).ToArray();
        Assert.Equal(GoGolden.GoUnauthenticatedRead, new LogHash(tiles[new Tile(2, 0, 0, 4)].AsSpan(0, LogHash.Size)).ToString());
        var reader = new DictionaryTileReader(2, tiles);
        var e = await Assert.ThrowsAsync<TlogVerificationException>(async () => await new TileHashReader(tree, reader).ReadHashesAsync([0]));
        Assert.Equal("downloaded inconsistent tile", e.Message);
        Assert.Equal(reader.Requested.Count, reader.Unsaved);
    }
}

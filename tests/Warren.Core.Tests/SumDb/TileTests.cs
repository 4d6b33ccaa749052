using Warren.Core.SumDb;

namespace Warren.Core.Tests.SumDb;

public class TileTests
{
    // tlog_test.go's tilePaths, plus more.
    public static TheoryData<string, int, int, long, int> GoodPaths => new()
    {
        { "tile/4/0/001", 4, 0, 1, 16 },
        { "tile/4/0/001.p/5", 4, 0, 1, 5 },
        { "tile/3/5/x123/x456/078", 3, 5, 123456078, 8 },
        { "tile/3/5/x123/x456/078.p/2", 3, 5, 123456078, 2 },
        { "tile/1/0/x003/x057/500", 1, 0, 3057500, 2 },
        { "tile/1/data/x003/x057/500", 1, -1, 3057500, 2 },
        { "tile/8/0/000.p/40", 8, 0, 0, 40 },
        { "tile/8/data/000.p/1", 8, -1, 0, 1 },
        { "tile/8/2/x001/234.p/5", 8, 2, 1234, 5 },
        { "tile/8/1/999", 8, 1, 999, 256 },
        { "tile/8/1/x001/000", 8, 1, 1000, 256 },
        { "tile/30/63/000.p/1", 30, 63, 0, 1 },
    };

    [Theory]
    [MemberData(nameof(GoodPaths))]
    public void Path_RoundTrips(string path, int h, int l, long n, int w)
    {
        var tile = new Tile(h, l, n, w);
        Assert.Equal(path, tile.Path);
        Assert.Equal(path, tile.ToString());
        Assert.Equal(tile, Tile.ParsePath(path));
        Assert.Equal(l == -1, tile.IsData);
        Assert.Equal(w == 1 << h, tile.IsFull);
    }

    [Theory]
    [InlineData("tile/3/5/123/456/078")]
    [InlineData("tile/3/-1/123/456/078")]
    [InlineData("tile/3/-1/078")]
    [InlineData("tile/0/0/000")]
    [InlineData("tile/31/0/000")]
    [InlineData("tile/8/0/000.p/0")]
    [InlineData("tile/8/0/000.p/256")]
    [InlineData("tile/8/0/000.p/257")]
    [InlineData("tile/8/0/000.p/-1")]
    [InlineData("tile/8/0/000.p/05")]
    [InlineData("tile/8/0/0")]
    [InlineData("tile/8/0/1000")]
    [InlineData("tile/8/0/x000/001")]
    [InlineData("tile/8/0/001/002")]
    [InlineData("tile/8/0/x1/002")]
    [InlineData("tile/8/00/001")]
    [InlineData("tile/08/0/001")]
    [InlineData("tile/+8/0/001")]
    [InlineData("tile/8/+0/001")]
    [InlineData("tile/8/0/+01")]
    [InlineData("tile/8/0")]
    [InlineData("tiles/8/0/001")]
    [InlineData("/tile/8/0/001")]
    [InlineData("tile/8/0/001/")]
    [InlineData("tile/8/data/001.p/")]
    [InlineData("tile/8/0.p/5")]
    [InlineData("tile/8/x/001")]
    [InlineData("")]
    public void ParsePath_RejectsMalformed(string path)
    {
        Assert.False(Tile.TryParsePath(path, out _));
        Assert.Equal($"malformed tile path \"{path}\"", Assert.Throws<FormatException>(() => Tile.ParsePath(path)).Message);
    }

    [Fact]
    public void TileForIndex_MatchesGo()
    {
        foreach (var (h, index, path) in GoGolden.TileForIndex)
        {
            Assert.Equal(path, Tile.ForIndex(h, index).Path);
        }
    }

    [Fact]
    public void NewTiles_MatchesGo()
    {
        foreach (var (h, oldSize, newSize, paths) in GoGolden.NewTiles)
        {
            Assert.Equal(paths, Tile.NewTiles(h, oldSize, newSize).Select(t => t.Path));
        }

        Assert.Empty(Tile.NewTiles(8, 0, 0));
        // As in Go, an unchanged size re-lists its partial tile.
        Assert.Equal(["tile/8/0/000.p/5"], Tile.NewTiles(8, 5, 5).Select(t => t.Path));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tile.NewTiles(0, 0, 1));
    }

    [Fact]
    public void NewDataTiles_AreTheLevelZeroCoordinates()
    {
        Assert.Equal(["tile/2/data/000.p/1"], Tile.NewDataTiles(2, 0, 1).Select(t => t.Path));
        Assert.Equal(["tile/2/data/003", "tile/2/data/004.p/1"], Tile.NewDataTiles(2, 13, 17).Select(t => t.Path));
    }

    [Fact]
    public void HashFromData_Errors()
    {
        var data = new byte[4 * LogHash.Size];
        var tile = new Tile(2, 0, 0, 4);
        Assert.Throws<ArgumentException>(() => tile.HashFromData(data.AsSpan(0, 3 * LogHash.Size), 0));
        Assert.Throws<ArgumentException>(() => (tile with { Width = 5 }).HashFromData(data, 0));
        Assert.Throws<ArgumentException>(() => (tile with { Level = -1 }).HashFromData(data, 0));

        // Index 7 (record 4) lives in tile/2/0/001.
        var e = Assert.Throws<ArgumentException>(() => tile.HashFromData(data, 7));
        Assert.StartsWith("index 7 is in tile/2/0/001.p/1 not tile/2/0/000", e.Message, StringComparison.Ordinal);

        // A narrower tile does not hold hash 4 (record 3).
        Assert.Throws<ArgumentException>(() => (tile with { Width = 3 }).HashFromData(data, 4));
        Assert.Equal(new LogHash(data.AsSpan(96, 32)), (tile with { Width = 4 }).HashFromData(data, 4));
    }

    [Fact]
    public async Task ReadData_RejectsDataTiles()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await Tile.ReadDataAsync(new Tile(2, -1, 0, 1), new MemoryHashStore()));
    }

    [Fact]
    public void Full_WidensToCompleteTile()
    {
        Assert.Equal("tile/8/0/x001/234", Tile.ParsePath("tile/8/0/x001/234.p/5").Full.Path);
    }
}

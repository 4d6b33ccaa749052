using Warren.Core.SumDb;

namespace Warren.Core.Tests.SumDb;

/// <summary>Tiles held in a dictionary (as a client's cache or a remote server would serve them), counting reads that
/// were not yet reported saved.</summary>
internal sealed class DictionaryTileReader(int height, Dictionary<Tile, byte[]> tiles) : ITileReader
{
    public int Height { get; } = height;

    public Dictionary<Tile, byte[]> Tiles { get; } = tiles;

    public int Unsaved { get; private set; }

    public List<Tile> Requested { get; } = [];

    public ValueTask<IReadOnlyList<byte[]>> ReadTilesAsync(IReadOnlyList<Tile> tiles, CancellationToken cancellationToken = default)
    {
        var data = new byte[tiles.Count][];
        for (int i = 0; i < tiles.Count; i++)
        {
            // A server without the partial tile any more serves the full one; the client keeps the prefix.
            data[i] = Tiles.TryGetValue(tiles[i], out var d) ? d
                : Tiles.TryGetValue(tiles[i].Full, out var full) ? full[..(tiles[i].Width * LogHash.Size)]
                : throw new FileNotFoundException(tiles[i].Path);
        }

        Requested.AddRange(tiles);
        Unsaved += tiles.Count;
        return ValueTask.FromResult<IReadOnlyList<byte[]>>(data);
    }

    public ValueTask SaveTilesAsync(IReadOnlyList<Tile> tiles, IReadOnlyList<byte[]> data, CancellationToken cancellationToken = default)
    {
        Unsaved -= tiles.Count;
        return ValueTask.CompletedTask;
    }
}

/// <summary>Serves any hash tile of a tree straight from its stored hashes (a server's view).</summary>
internal sealed class StoreTileReader(int height, MemoryHashStore store) : ITileReader
{
    public int Height { get; } = height;

    public async ValueTask<IReadOnlyList<byte[]>> ReadTilesAsync(IReadOnlyList<Tile> tiles, CancellationToken cancellationToken = default)
    {
        var data = new List<byte[]>();
        foreach (var tile in tiles)
        {
            data.Add(await Tile.ReadDataAsync(tile, store, cancellationToken));
        }

        return data;
    }
}

/// <summary>A hash reader that checks indexes arrive in increasing order, as Go's tests do.</summary>
internal sealed class OrderCheckingReader(MemoryHashStore store) : IHashReader
{
    public ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default)
    {
        for (int i = 1; i < indexes.Count; i++)
        {
            Assert.True(indexes[i - 1] < indexes[i], "indexes out of order");
        }

        return store.ReadHashesAsync(indexes, cancellationToken);
    }
}

namespace Warren.Core.SumDb;

/// <summary>A source of a log's hash tiles (tlog.TileReader): a local cache, a remote checksum database, or both.</summary>
public interface ITileReader
{
    /// <summary>The height of the tiles this source serves (8 for sum.golang.org).</summary>
    int Height { get; }

    /// <summary>The data of each tile, in order: exactly Width·32 bytes each. Tiles read from the network are
    /// untrusted until <see cref="SaveTilesAsync"/> reports them authenticated; do not persist them before.</summary>
    /// <remarks>A server may no longer serve a partial tile once it is complete; a remote implementation then fetches
    /// <see cref="Tile.Full"/> and returns its first Width hashes, as the go command does.</remarks>
    ValueTask<IReadOnlyList<byte[]>> ReadTilesAsync(IReadOnlyList<Tile> tiles, CancellationToken cancellationToken = default);

    /// <summary>Called with tiles returned by <see cref="ReadTilesAsync"/> once they have been authenticated against a
    /// trusted tree head: they may now be cached persistently.</summary>
    ValueTask SaveTilesAsync(IReadOnlyList<Tile> tiles, IReadOnlyList<byte[]> data, CancellationToken cancellationToken = default) =>
        ValueTask.CompletedTask;
}

/// <summary>Reads hashes of a trusted tree from tiles, authenticating every tile it uses against the tree's hash
/// (tlog.TileHashReader). Any hash it returns is thereby proven to be in that tree.</summary>
/// <remarks>Each read fetches the tiles needed to recompute the tree hash, plus those holding the requested hashes and
/// the chain of parent tiles linking them to the former; the tree-hash tiles are checked against
/// <see cref="TreeHead.Hash"/>, then every other full tile against the hash its parent tile holds for it.</remarks>
public sealed class TileHashReader : IHashReader
{
    private readonly TreeHead _tree;
    private readonly ITileReader _tiles;

    public TileHashReader(TreeHead tree, ITileReader tiles)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        ArgumentOutOfRangeException.ThrowIfNegative(tree.Size);
        _tree = tree;
        _tiles = tiles;
    }

    /// <summary>The trusted tree this reader reads.</summary>
    public TreeHead Tree => _tree;

    /// <exception cref="TlogException">An index is not in the tree ("indexes not in tree"), or the tile reader broke
    /// its contract.</exception>
    /// <exception cref="TlogVerificationException">The tiles do not authenticate ("downloaded inconsistent
    /// tile").</exception>
    public async ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        int h = _tiles.Height;
        if (h < 1 || h > Tile.MaxHeight)
        {
            throw new TlogException($"invalid tile height {h}");
        }

        long n = _tree.Size;
        long limit = n == 0 ? 0 : Tlog.StoredHashIndex(0, n);
        foreach (long x in indexes)
        {
            if (x < 0 || x >= limit)
            {
                throw new TlogException("indexes not in tree");
            }
        }

        if (indexes.Count == 0)
        {
            return [];
        }

        var order = new Dictionary<Tile, int>(); // tile → its position in tiles
        var tiles = new List<Tile>();

        // The tiles needed to recompute the tree hash: if it matches, they are authentic.
        var stx = new List<long>();
        Tlog.SubTreeIndex(0, n, stx);
        var stxTile = new int[stx.Count];
        for (int i = 0; i < stx.Count; i++)
        {
            var tile = Parent(Tile.ForIndex(h, stx[i]), 0, n) ?? throw new InvalidOperationException("tlog: bad math in tileHashReader");
            if (!order.TryGetValue(tile, out int j))
            {
                order[tile] = j = tiles.Count;
                tiles.Add(tile);
            }

            stxTile[i] = j;
        }

        int treeTiles = tiles.Count;

        // The tiles holding the indexes, with the parents linking each to an authenticated tile; parents come first.
        var indexTile = new int[indexes.Count];
        for (int i = 0; i < indexes.Count; i++)
        {
            var tile = Tile.ForIndex(h, indexes[i]);
            int k = 0;
            while (true)
            {
                if (Parent(tile, k, n) is { } p && order.TryGetValue(p, out int j))
                {
                    if (k == 0)
                    {
                        indexTile[i] = j;
                    }

                    break;
                }

                k++;
                if (k * h >= 64)
                {
                    throw new InvalidOperationException($"tlog: bad math in tileHashReader: {n} {indexes[i]}");
                }
            }

            for (k--; k >= 0; k--)
            {
                var p = Parent(tile, k, n) ?? throw new InvalidOperationException($"tlog: bad math in tileHashReader: {n} {indexes[i]}");
                if (!p.IsFull)
                {
                    // Only full tiles have parents; this one has one, so it must be full.
                    throw new InvalidOperationException($"tlog: bad math in tileHashReader: {n} {indexes[i]} {p}");
                }

                order[p] = tiles.Count;
                if (k == 0)
                {
                    indexTile[i] = tiles.Count;
                }

                tiles.Add(p);
            }
        }

        var data = await _tiles.ReadTilesAsync(tiles, cancellationToken).ConfigureAwait(false);
        if (data is null || data.Count != tiles.Count)
        {
            throw new TlogException($"TileReader returned bad result slice (len={data?.Count ?? 0}, want {tiles.Count})");
        }

        for (int i = 0; i < tiles.Count; i++)
        {
            if (data[i] is null || data[i].Length != tiles[i].Width * LogHash.Size)
            {
                throw new TlogException(
                    $"TileReader returned bad result slice ({tiles[i].Path} len={data[i]?.Length ?? 0}, want {tiles[i].Width * LogHash.Size})");
            }
        }

        // Authenticate the tree-hash tiles against the tree hash.
        var th = HashFrom(tiles[stxTile[^1]], data[stxTile[^1]], stx[^1]);
        for (int i = stx.Count - 2; i >= 0; i--)
        {
            th = Tlog.NodeHash(HashFrom(tiles[stxTile[i]], data[stxTile[i]], stx[i]), th);
        }

        if (th != _tree.Hash)
        {
            // At least one of them is wrong, but there is no telling which.
            throw new TlogVerificationException("downloaded inconsistent tile");
        }

        // Authenticate every other (full) tile against its parent, which comes before it. (Several tree-hash indexes can
        // share a tile, so the first such tile is at treeTiles, which may be less than stx.Count.)
        for (int i = treeTiles; i < tiles.Count; i++)
        {
            var tile = tiles[i];
            var p = Parent(tile, 1, n);
            if (p is not { } parent || !order.TryGetValue(parent, out int j))
            {
                throw new InvalidOperationException($"tlog: bad math in tileHashReader {n}: lost parent of {tile.Path}");
            }

            var expected = HashFrom(parent, data[j], Tlog.StoredHashIndex(parent.Level * parent.Height, tile.Number));
            if (expected != Tile.SubtreeHash(data[i]))
            {
                throw new TlogVerificationException("downloaded inconsistent tile");
            }
        }

        // Every tile is now authenticated against the trusted tree hash.
        await _tiles.SaveTilesAsync(tiles, data, cancellationToken).ConfigureAwait(false);

        var hashes = new LogHash[indexes.Count];
        for (int i = 0; i < indexes.Count; i++)
        {
            int j = indexTile[i];
            hashes[i] = HashFrom(tiles[j], data[j], indexes[i]);
        }

        return hashes;
    }

    private static LogHash HashFrom(Tile tile, byte[] data, long index)
    {
        try
        {
            return tile.HashFromData(data, index);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"tlog: bad math in tileHashReader: {e.Message}", e);
        }
    }

    /// <summary>The k'th parent of tile t among the tiles of a tree of n records, or null if there is none.</summary>
    private static Tile? Parent(Tile t, int k, long n)
    {
        int level = t.Level + k;
        int shift = level * t.Height;
        if (shift >= 63)
        {
            return null;
        }

        long number = t.Number >> (k * t.Height);
        int width = 1 << t.Height;
        long max = n >> shift;
        if ((number << t.Height) + width >= max)
        {
            if (number << t.Height >= max)
            {
                return null;
            }

            width = (int)(max - (number << t.Height));
        }

        return new Tile(t.Height, level, number, width);
    }
}

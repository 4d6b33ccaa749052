using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Warren.Core.SumDb;

/// <summary>A tile of a transparency log (tlog.Tile): the Width consecutive hashes at tree level Height·Level
/// starting at hash Number·2^Height; a subtree of height Height whose leaves they are. A complete tile has 2^Height
/// hashes, a partial one fewer. Level −1 denotes a data tile, holding the records themselves.</summary>
/// <remarks>Tiles are served at "tile/H/L/NNN[.p/W]", where NNN is N in three-digit path elements, all but the last
/// prefixed with "x" (tile/3/4/x001/x234/067.p/1), and L is "data" for level −1.</remarks>
public readonly record struct Tile(int Height, int Level, long Number, int Width)
{
    /// <summary>The largest tile height.</summary>
    public const int MaxHeight = 30;

    private const int PathBase = 1000;

    /// <summary>Whether this is a data tile (Level −1).</summary>
    public bool IsData => Level == -1;

    /// <summary>Whether the tile has all 2^Height hashes.</summary>
    public bool IsFull => Width == 1 << Height;

    /// <summary>The complete tile this one is a prefix of.</summary>
    public Tile Full => this with { Width = 1 << Height };

    /// <summary>The tile's path, "tile/H/L/NNN[.p/W]".</summary>
    public string Path
    {
        get
        {
            var n = new StringBuilder();
            long rest = Number;
            n.Append((rest % PathBase).ToString("D3", CultureInfo.InvariantCulture));
            while (rest >= PathBase)
            {
                rest /= PathBase;
                n.Insert(0, "x" + (rest % PathBase).ToString("D3", CultureInfo.InvariantCulture) + "/");
            }

            string level = Level == -1 ? "data" : Level.ToString(CultureInfo.InvariantCulture);
            string partial = IsFull ? "" : ".p/" + Width.ToString(CultureInfo.InvariantCulture);
            return string.Create(CultureInfo.InvariantCulture, $"tile/{Height}/{level}/{n}{partial}");
        }
    }

    public override string ToString() => Path;

    /// <summary>Parses a tile path (tlog.ParseTilePath). Only the canonical form is accepted.</summary>
    /// <exception cref="FormatException">"malformed tile path \"…\"".</exception>
    public static Tile ParsePath(string path) =>
        TryParsePath(path, out var tile) ? tile : throw new FormatException($"malformed tile path \"{path}\"");

    /// <summary>Parses a tile path; false unless it is the canonical path of a tile.</summary>
    public static bool TryParsePath([NotNullWhen(true)] string? path, out Tile tile)
    {
        tile = default;
        if (path is null)
        {
            return false;
        }

        var f = path.Split('/');
        if (f.Length < 4 || f[0] != "tile")
        {
            return false;
        }

        bool isData = f[2] == "data";
        int l = -1;
        if (!TryParseInt(f[1], out int h) || h < 1 || h > MaxHeight || (!isData && (!TryParseInt(f[2], out l) || l < 0)))
        {
            return false;
        }

        int w = 1 << h;
        int last = f.Length;
        if (f[^2].EndsWith(".p", StringComparison.Ordinal))
        {
            if (!TryParseInt(f[^1], out int ww) || ww <= 0 || ww >= w)
            {
                return false;
            }

            w = ww;
            f[^2] = f[^2][..^2];
            last--;
        }

        long n = 0;
        for (int i = 3; i < last; i++)
        {
            string s = f[i].StartsWith('x') ? f[i][1..] : f[i];
            if (!TryParseInt(s, out int nn) || nn < 0 || nn >= PathBase)
            {
                return false;
            }

            n = checked(n * PathBase + nn);
        }

        var t = new Tile(h, l, n, w);
        if (t.Path != path)
        {
            return false;
        }

        tile = t;
        return true;
    }

    /// <summary>The tile of height h and least width holding the hash with a stored hash index
    /// (tlog.TileForIndex).</summary>
    public static Tile ForIndex(int height, long index) => ForIndex(height, index, out _, out _);

    /// <summary>The tile holding a stored hash, and the byte range of its tile data that hashes to it.</summary>
    internal static Tile ForIndex(int height, long index, out int start, out int end)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, MaxHeight);
        var (level, n) = Tlog.SplitStoredHashIndex(index);
        int tileLevel = level / height;
        level -= tileLevel * height; // level within the tile
        long number = n << level >> height;
        n -= number << height >> level; // n within the tile at that level
        int width = (int)((n + 1) << level);
        start = (int)(n << level) * LogHash.Size;
        end = (int)((n + 1) << level) * LogHash.Size;
        return new Tile(height, tileLevel, number, width);
    }

    /// <summary>The hash with the given stored hash index, computed from this tile's data (tlog.HashFromTile). The
    /// tile must be <c>ForIndex(Height, index)</c> or a wider tile of the same coordinates.</summary>
    /// <exception cref="ArgumentException">The tile is invalid, the data is too short, or the index is in another
    /// tile.</exception>
    public LogHash HashFromData(ReadOnlySpan<byte> data, long index)
    {
        if (Height < 1 || Height > MaxHeight || Level < 0 || Level >= 64 || Width < 1 || Width > 1 << Height)
        {
            throw new ArgumentException($"invalid tile {Path}");
        }

        if (data.Length < Width * LogHash.Size)
        {
            throw new ArgumentException($"data len {data.Length} too short for tile {Path}", nameof(data));
        }

        var t = ForIndex(Height, index, out int start, out int end);
        if (Level != t.Level || Number != t.Number || Width < t.Width)
        {
            throw new ArgumentException($"index {index} is in {t.Path} not {Path}", nameof(index));
        }

        return SubtreeHash(data[start..end]);
    }

    /// <summary>The hash of the subtree whose leaves are the 2^k hashes in data.</summary>
    internal static LogHash SubtreeHash(ReadOnlySpan<byte> data)
    {
        if (data.Length == LogHash.Size)
        {
            return new LogHash(data);
        }

        if (data.Length < LogHash.Size)
        {
            throw new InvalidOperationException("tlog: bad math in tileHash");
        }

        int half = data.Length / 2;
        return Tlog.NodeHash(SubtreeHash(data[..half]), SubtreeHash(data[half..]));
    }

    /// <summary>The hash tiles of height h to publish when the tree grows from oldTreeSize to newTreeSize records
    /// (tlog.NewTiles): every full tile completed and every partial tile widened, lowest level first.</summary>
    public static IReadOnlyList<Tile> NewTiles(int height, long oldTreeSize, long newTreeSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, MaxHeight);
        ArgumentOutOfRangeException.ThrowIfNegative(oldTreeSize);
        ArgumentOutOfRangeException.ThrowIfNegative(newTreeSize);
        var tiles = new List<Tile>();
        for (int level = 0; height * level < 64 && newTreeSize >> (height * level) > 0; level++)
        {
            long oldN = oldTreeSize >> (height * level);
            long newN = newTreeSize >> (height * level);
            for (long n = oldN >> height; n < newN >> height; n++)
            {
                tiles.Add(new Tile(height, level, n, 1 << height));
            }

            long last = newN >> height;
            int maxW = (int)(newN - (last << height));
            int minW = oldN > last << height ? (int)(oldN - (last << height)) : 1;
            for (int w = minW; w <= maxW; w++)
            {
                tiles.Add(new Tile(height, level, last, w));
            }
        }

        return tiles;
    }

    /// <summary>The data tiles (Level −1) to publish when the tree grows from oldTreeSize to newTreeSize records:
    /// the level-0 hash tiles' coordinates, as data tiles.</summary>
    public static IReadOnlyList<Tile> NewDataTiles(int height, long oldTreeSize, long newTreeSize) =>
        [.. NewTiles(height, oldTreeSize, newTreeSize).Where(t => t.Level == 0).Select(t => t with { Level = -1 })];

    /// <summary>The data of hash tile t read from a hash store: its Width hashes, concatenated
    /// (tlog.ReadTileData). A width of zero means a full tile.</summary>
    public static async ValueTask<byte[]> ReadDataAsync(Tile tile, IHashReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (tile.Level < 0)
        {
            throw new ArgumentException($"{tile.Path} is not a hash tile", nameof(tile));
        }

        int size = tile.Width == 0 ? 1 << tile.Height : tile.Width;
        long first = tile.Number << tile.Height;
        var indexes = new long[size];
        for (int i = 0; i < size; i++)
        {
            indexes[i] = Tlog.StoredHashIndex(tile.Height * tile.Level, first + i);
        }

        var hashes = await Tlog.ReadExactlyAsync(reader, indexes, cancellationToken).ConfigureAwait(false);
        var data = new byte[size * LogHash.Size];
        for (int i = 0; i < size; i++)
        {
            hashes[i].CopyTo(data.AsSpan(i * LogHash.Size));
        }

        return data;
    }

    // Non-negative decimal as strconv.Atoi reads it here (a sign is allowed; the canonical-path check rejects it).
    private static bool TryParseInt(string s, out int value) =>
        int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
}

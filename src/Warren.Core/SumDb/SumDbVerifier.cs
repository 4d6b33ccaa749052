using System.Text;

namespace Warren.Core.SumDb;

/// <summary>The checks a checksum-database client makes (golang.org/x/mod/sumdb.Client): that a record is in a trusted
/// tree, and that two signed tree heads lie on one timeline. Tiles come from an <see cref="ITileReader"/>.</summary>
public static class SumDbVerifier
{
    /// <summary>Checks that record id of the tree has exactly the given text, reading (and authenticating) the tiles
    /// for its leaf hash.</summary>
    /// <exception cref="TlogException">The record is not in the tree ("cannot validate record N in tree of size
    /// M"), or reading the tiles failed.</exception>
    /// <exception cref="TlogVerificationException">The text does not match the leaf ("cannot authenticate record data
    /// in server response"), or a tile is inconsistent with the tree.</exception>
    public static async ValueTask CheckRecordAsync(TreeHead tree, long id, ReadOnlyMemory<byte> recordText, ITileReader tiles, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        if (id < 0 || id >= tree.Size)
        {
            throw new TlogException($"cannot validate record {id} in tree of size {tree.Size}");
        }

        var hashes = await new TileHashReader(tree, tiles)
            .ReadHashesAsync([Tlog.StoredHashIndex(0, id)], cancellationToken).ConfigureAwait(false);
        if (hashes[0] != Tlog.RecordHash(recordText.Span))
        {
            throw new TlogVerificationException("cannot authenticate record data in server response");
        }
    }

    /// <summary>Checks that the older tree is a prefix of the newer one, by recomputing the older tree's hash from
    /// tiles authenticated against the newer (as the go command does). Sizes may be equal.</summary>
    /// <exception cref="ArgumentException">older is larger than newer.</exception>
    /// <exception cref="TreeForkException">The trees are inconsistent: the server forked its log. The exception holds
    /// the evidence.</exception>
    /// <exception cref="TlogException">Reading the tiles failed (including inconsistent tiles, reported as
    /// <see cref="TlogVerificationException"/>).</exception>
    public static async ValueTask CheckTreesAsync(TreeHead older, TreeHead newer, ITileReader tiles, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        if (older.Size > newer.Size)
        {
            throw new ArgumentException($"tree#{older.Size} is larger than tree#{newer.Size}", nameof(older));
        }

        var reader = new TileHashReader(newer, tiles);
        LogHash h;
        try
        {
            h = await Tlog.TreeHashAsync(older.Size, reader, cancellationToken).ConfigureAwait(false);
        }
        catch (TlogException e)
        {
            string what = older.Size == newer.Size ? $"tree#{older.Size}" : $"tree#{older.Size} against tree#{newer.Size}";
            throw e is TlogVerificationException
                ? new TlogVerificationException($"checking {what}: {e.Message}", e)
                : new TlogException($"checking {what}: {e.Message}", e);
        }

        if (h == older.Hash)
        {
            return;
        }

        // A fork. The newer tree's hash for the older size, with a consistency proof tying it to the newer tree,
        // proves the misbehavior without further help from the server.
        var proof = older.Size == 0 ? [] : await Tlog.ProveTreeAsync(newer.Size, older.Size, reader, cancellationToken).ConfigureAwait(false);
        throw new TreeForkException(older, newer, h, proof);
    }
}

/// <summary>Two signed tree heads are not on one timeline: the newer tree's hash for the older size differs from the
/// older tree's hash. The checksum database is misbehaving.</summary>
public sealed class TreeForkException : TlogVerificationException
{
    public TreeForkException()
        : base("go.sum database server misbehavior detected")
    {
        Proof = [];
    }

    public TreeForkException(string message)
        : base(message)
    {
        Proof = [];
    }

    public TreeForkException(string message, Exception innerException)
        : base(message, innerException)
    {
        Proof = [];
    }

    public TreeForkException(TreeHead older, TreeHead newer, LogHash newerHashOfOlderSize, IReadOnlyList<LogHash> proof)
        : base(Describe(older, newer, newerHashOfOlderSize, proof)) =>
        (Older, Newer, NewerHashOfOlderSize, Proof) = (older, newer, newerHashOfOlderSize, proof);

    public TreeHead Older { get; }

    public TreeHead Newer { get; }

    /// <summary>The hash the newer tree implies for a tree of the older size.</summary>
    public LogHash NewerHashOfOlderSize { get; }

    /// <summary>The consistency proof from that hash to the newer tree.</summary>
    public IReadOnlyList<LogHash> Proof { get; }

    private static string Describe(TreeHead older, TreeHead newer, LogHash h, IReadOnlyList<LogHash> proof)
    {
        var s = new StringBuilder("go.sum database server misbehavior detected: ")
            .Append("tree#").Append(older.Size).Append(" has hash ").Append(older.Hash)
            .Append(" but tree#").Append(newer.Size).Append(" (").Append(newer.Hash).Append(") implies ").Append(h);
        foreach (var p in proof)
        {
            s.Append("\n\t").Append(p);
        }

        return s.ToString();
    }
}

using Warren.Protocol.SumDb;
using Warren.Server.Storage;

namespace Warren.Server.SumDb;

/// <summary>The server's <see cref="ISumDbCache"/> for one checksum database: tiles are blobs of the store at
/// sumdb/NAME/tile/…, the very paths the /sumdb/ proxy serves and writes (<see cref="SumDbProxy"/>), so a tile is
/// written by one route; the latest verified tree head stays in its file under .warren/sumdb, advanced by
/// compare-and-swap and never moved backwards (<see cref="TreeHeadFiles"/>).</summary>
public sealed class StoreSumDbCache : ISumDbCache
{
    private readonly IModuleStore _store;
    private readonly string _prefix;
    private readonly TreeHeadFiles _heads;

    /// <param name="store">The store the tiles are blobs of.</param>
    /// <param name="databaseName">The checksum database's name.</param>
    /// <param name="treeHeadDirectory">Where the tree head files are (&lt;store&gt;/.warren/sumdb).</param>
    public StoreSumDbCache(IModuleStore store, string databaseName, string treeHeadDirectory)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(databaseName);
        _store = store;
        _prefix = BlobPrefix(databaseName);
        _heads = new TreeHeadFiles(treeHeadDirectory);
    }

    /// <summary>The store's relative path of a database's content ("sumdb/NAME/"), as the /sumdb/ proxy names it.</summary>
    public static string BlobPrefix(string databaseName) => "sumdb/" + databaseName + "/";

    /// <summary>Where a tile of this database is in the store.</summary>
    public string BlobPath(string tilePath) =>
        SumDbCaches.IsTilePath(tilePath) ? _prefix + tilePath : throw new ArgumentException($"not a tile path: {tilePath}", nameof(tilePath));

    public async ValueTask<byte[]?> GetTileAsync(string tilePath, CancellationToken cancellationToken)
    {
        try
        {
            if (await _store.GetBlobAsync(BlobPath(tilePath), cancellationToken).ConfigureAwait(false) is not { } blob)
            {
                return null;
            }

            var stream = blob.OpenRead();
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                return buffer.ToArray();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Unreadable (or a name the store does not take): fetched again from the database.
            return null;
        }
    }

    public async ValueTask PutTileAsync(string tilePath, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var staged = _store.NewStagingFile();
        try
        {
            await File.WriteAllBytesAsync(staged, data, cancellationToken).ConfigureAwait(false);
            await _store.CommitBlobAsync(staged, BlobPath(tilePath), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The cache is an optimisation: a tile that cannot be written is fetched again next time.
        }
        finally
        {
            File.Delete(staged);
        }
    }

    public async ValueTask EvictTileAsync(string tilePath, CancellationToken cancellationToken)
    {
        try
        {
            await _store.DeleteBlobAsync(BlobPath(tilePath), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
        }
    }

    // The tree head: kept apart from the tiles so that it can move to the index's compare-and-swap on its own.
    public ValueTask<byte[]?> GetTreeHeadAsync(string name, CancellationToken cancellationToken) => _heads.GetAsync(name, cancellationToken);

    public ValueTask<bool> TryAdvanceTreeHeadAsync(string name, byte[]? expected, byte[] next, CancellationToken cancellationToken) =>
        _heads.TryAdvanceAsync(name, expected, next, cancellationToken);
}

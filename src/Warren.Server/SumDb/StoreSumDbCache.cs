using Warren.Protocol.SumDb;
using Warren.Server.Storage;

namespace Warren.Server.SumDb;

/// <summary>The server's <see cref="ISumDbCache"/> for one checksum database: tiles are objects of the artifact store
/// at sumdb/NAME/tile/…, the very keys the /sumdb/ proxy serves and writes (<see cref="SumDbProxy"/>), so a tile has
/// one representation whichever route fetched it; the latest verified tree head lives in the module index, advanced by
/// compare-and-swap and never moved backwards, so every node sharing the index trusts the same head.</summary>
/// <param name="store">The store the tiles are objects of.</param>
/// <param name="index">The index holding the verified tree heads.</param>
/// <param name="staging">Where a tile is staged before it is stored.</param>
/// <param name="databaseName">The checksum database's name.</param>
public sealed class StoreSumDbCache(IArtifactStore store, IModuleIndex index, StagingArea staging, string databaseName) : ISumDbCache
{
    private readonly IArtifactStore _store = store;
    private readonly IModuleIndex _index = index;
    private readonly StagingArea _staging = staging;
    private readonly string _prefix = StoreLayout.SumDbPrefix(RequireName(databaseName));

    /// <summary>Where a tile of this database is in the store.</summary>
    public string BlobPath(string tilePath) =>
        SumDbCaches.IsTilePath(tilePath) ? _prefix + tilePath : throw new ArgumentException($"not a tile path: {tilePath}", nameof(tilePath));

    public async ValueTask<byte[]?> GetTileAsync(string tilePath, CancellationToken cancellationToken)
    {
        try
        {
            return await _store.GetAsync(BlobPath(tilePath), cancellationToken).ConfigureAwait(false) is { } tile
                ? await tile.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Unreadable (or a name the store does not take): fetched again from the database.
            return null;
        }
    }

    public async ValueTask PutTileAsync(string tilePath, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        string? staged = null;
        try
        {
            staged = await _staging.StageAsync(data, cancellationToken).ConfigureAwait(false);
            await _store.PutIfAbsentAsync(BlobPath(tilePath), staged, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The cache is an optimisation: a tile that cannot be written is fetched again next time.
        }
        finally
        {
            if (staged is not null)
            {
                File.Delete(staged);
            }
        }
    }

    public async ValueTask EvictTileAsync(string tilePath, CancellationToken cancellationToken)
    {
        try
        {
            await _store.DeleteAsync(BlobPath(tilePath), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
        }
    }

    public async ValueTask<byte[]?> GetTreeHeadAsync(string name, CancellationToken cancellationToken) =>
        await _index.GetTreeHeadAsync(name, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> TryAdvanceTreeHeadAsync(string name, byte[]? expected, byte[] next, CancellationToken cancellationToken) =>
        await _index.TryAdvanceTreeHeadAsync(name, expected, next, cancellationToken).ConfigureAwait(false);

    private static string RequireName(string databaseName)
    {
        ArgumentException.ThrowIfNullOrEmpty(databaseName);
        return databaseName;
    }
}

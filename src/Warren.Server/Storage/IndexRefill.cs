using System.Text;
using Warren.Protocol.SumDb;

namespace Warren.Server.Storage;

/// <summary>Brings the module index up to what the node's earlier versions and the store hold: refills the artifact
/// records from the store after an index was recreated (a corrupt one moved aside), and moves verified tree heads
/// kept in files under ROOT/.warren/sumdb (before they lived in the index) into the index, never backwards.</summary>
public sealed class IndexRefill(IArtifactStore store, IModuleIndex index, ILogger<IndexRefill> logger)
{
    /// <summary>Records every module file of the store in the index: the zip h1 from its .ziphash, the go.mod h1
    /// computed, the time from the object's date. Returns how many were recorded.</summary>
    public async Task<int> RefillAsync(CancellationToken cancellationToken)
    {
        var count = 0;
        try
        {
            await foreach (var key in store.ListAsync("", cancellationToken).ConfigureAwait(false))
            {
                if (!StoreLayout.TryParseArtifactKey(key, out var module, out var version, out var kind) || kind == ArtifactKind.ZipHash ||
                    await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } stored)
                {
                    continue;
                }

                string? hash = kind switch
                {
                    ArtifactKind.Zip => await store.GetAsync(StoreLayout.ArtifactKey(module, version, ArtifactKind.ZipHash), cancellationToken).ConfigureAwait(false) is { } zipHash
                        ? Encoding.UTF8.GetString(await zipHash.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false)).Trim()
                        : null,
                    ArtifactKind.Mod => DirHash.HashGoMod(await stored.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false)),
                    _ => null,
                };
                await index.RecordArtifactAsync(new ArtifactRecord(module, version, kind, hash, stored.Length, "store", stored.LastModified), cancellationToken).ConfigureAwait(false);
                count++;
            }

            Log.IndexRebuilt(logger, index.Location, count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The index is a cache of what the store holds: a failed refill leaves it partial, and it is logged.
            Log.IndexRebuildFailed(logger, index.Location, ex);
        }

        return count;
    }

    /// <summary>Moves a tree head file of an earlier version (ROOT/.warren/sumdb/latest-NAME) into the index when it is
    /// larger than what the index holds, then renames the file aside. True when the index's head changed.</summary>
    public async Task<bool> ImportTreeHeadFileAsync(string root, string database, CancellationToken cancellationToken)
    {
        var files = new TreeHeadFiles(Path.Combine(root, ".warren", "sumdb"));
        var file = files.FileOf(database);
        if (!File.Exists(file))
        {
            return false;
        }

        var note = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        var moved = false;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var current = await index.GetTreeHeadAsync(database, cancellationToken).ConfigureAwait(false);
            if (current is not null && SumDbCaches.TreeSizeOf(current) >= SumDbCaches.TreeSizeOf(note))
            {
                break;
            }

            if (await index.TryAdvanceTreeHeadAsync(database, current, note, cancellationToken).ConfigureAwait(false))
            {
                moved = true;
                break;
            }
        }

        File.Move(file, file + ".imported", overwrite: true);
        return moved;
    }
}

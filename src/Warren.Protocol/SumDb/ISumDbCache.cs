using Warren.Core.SumDb;

namespace Warren.Protocol.SumDb;

/// <summary>Where a <see cref="SumDbClient"/> keeps what it has authenticated: the hash tiles of one checksum database,
/// by tile path ("tile/8/0/000", "tile/8/1/000.p/12"), and the latest verified signed tree note of each timeline, by
/// name. Tiles are only put after they were authenticated; the tree head only moves through
/// <see cref="TryAdvanceTreeHeadAsync"/>, a compare-and-swap, so clients sharing a cache never move it backwards.</summary>
public interface ISumDbCache
{
    /// <summary>The cached tile, or null when it is not cached (or cannot be read).</summary>
    ValueTask<byte[]?> GetTileAsync(string tilePath, CancellationToken cancellationToken);

    /// <summary>Caches an authenticated tile. A tile that cannot be written is not an error (it is fetched again).</summary>
    ValueTask PutTileAsync(string tilePath, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Removes a cached tile (it failed authentication). Removing a tile that is not cached is no error.</summary>
    ValueTask EvictTileAsync(string tilePath, CancellationToken cancellationToken);

    /// <summary>The stored signed tree note of the timeline name, or null when none is stored.</summary>
    ValueTask<byte[]?> GetTreeHeadAsync(string name, CancellationToken cancellationToken);

    /// <summary>Replaces the stored note of name with next when what is stored is still expected (null: nothing stored).
    /// False when another writer changed it first, or when next is a smaller tree than the stored one.</summary>
    ValueTask<bool> TryAdvanceTreeHeadAsync(string name, byte[]? expected, byte[] next, CancellationToken cancellationToken);
}

/// <summary>Helpers for <see cref="ISumDbCache"/> implementations.</summary>
public static class SumDbCaches
{
    /// <summary>The tree size a signed tree note states (its signatures are not checked), or -1 when it is no tree note.</summary>
    public static long TreeSizeOf(ReadOnlySpan<byte> signedNote)
    {
        var text = System.Text.Encoding.UTF8.GetString(signedNote);
        var end = text.IndexOf("\n\n", StringComparison.Ordinal);
        return TreeHead.TryParse(end < 0 ? text : text[..(end + 1)], out var tree) ? tree.Size : -1;
    }

    /// <summary>Whether a tile path is one a database serves ("tile/H/L/NNN[.p/W]"); nothing else is cached.</summary>
    public static bool IsTilePath(string tilePath) => Tile.TryParsePath(tilePath, out _);

    /// <summary>The same bytes (both null counts as the same).</summary>
    public static bool SameNote(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}

/// <summary>Tree heads kept as files "latest-NAME" in a directory, replaced atomically. The compare-and-swap is atomic
/// within this process (one lock shared by every instance) and never moves a head to a smaller tree; the file is
/// re-read each time, so processes sharing the directory see each other's heads.</summary>
public sealed class TreeHeadFiles
{
    private static readonly SemaphoreSlim HeadLock = new(1, 1);

    public TreeHeadFiles(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    /// <summary>The file holding the tree head of a timeline.</summary>
    public string FileOf(string name) => Path.Combine(Directory, "latest-" + DirectorySumDbCache.SafeName(name));

    public async ValueTask<byte[]?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var file = FileOf(name);
        return File.Exists(file) ? await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false) : null;
    }

    public async ValueTask<bool> TryAdvanceAsync(string name, byte[]? expected, byte[] next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        await HeadLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var file = FileOf(name);
            var current = File.Exists(file) ? await File.ReadAllBytesAsync(file, CancellationToken.None).ConfigureAwait(false) : null;
            if (!SumDbCaches.SameNote(current, expected) || (current is not null && SumDbCaches.TreeSizeOf(next) < SumDbCaches.TreeSizeOf(current)))
            {
                return false;
            }

            AtomicFile.Write(file, next);
            return true;
        }
        finally
        {
            HeadLock.Release();
        }
    }
}

/// <summary>A cache in directories: tiles under tileDirectory in the URL layout (tile/H/L/NNN, tile/H/L/NNN.p/W), tree
/// heads in stateDirectory (<see cref="TreeHeadFiles"/>).</summary>
public sealed class DirectorySumDbCache : ISumDbCache
{
    private readonly TreeHeadFiles _heads;

    public DirectorySumDbCache(string stateDirectory, string tileDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        ArgumentException.ThrowIfNullOrEmpty(tileDirectory);
        _heads = new TreeHeadFiles(stateDirectory);
        TileDirectory = Path.GetFullPath(tileDirectory);
    }

    public string StateDirectory => _heads.Directory;

    public string TileDirectory { get; }

    /// <summary>The file holding the tree head of a timeline.</summary>
    public string TreeHeadFile(string name) => _heads.FileOf(name);

    public ValueTask<byte[]?> GetTileAsync(string tilePath, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(TryRead(TilePath(tilePath)));
    }

    public ValueTask PutTileAsync(string tilePath, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var path = TilePath(tilePath);
            AtomicFile.Write(path, data.Span);
            if (Tile.TryParsePath(tilePath, out var tile) && tile.IsFull && System.IO.Directory.Exists(path + ".p"))
            {
                // The full tile answers for every partial one.
                System.IO.Directory.Delete(path + ".p", recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache is an optimisation: a tile that cannot be written is fetched again next time.
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask EvictTileAsync(string tilePath, CancellationToken cancellationToken)
    {
        try
        {
            File.Delete(TilePath(tilePath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> GetTreeHeadAsync(string name, CancellationToken cancellationToken) => _heads.GetAsync(name, cancellationToken);

    public ValueTask<bool> TryAdvanceTreeHeadAsync(string name, byte[]? expected, byte[] next, CancellationToken cancellationToken) =>
        _heads.TryAdvanceAsync(name, expected, next, cancellationToken);

    private string TilePath(string tilePath)
    {
        if (!SumDbCaches.IsTilePath(tilePath))
        {
            throw new ArgumentException($"not a tile path: {tilePath}", nameof(tilePath));
        }

        return Path.Combine(TileDirectory, tilePath.Replace('/', Path.DirectorySeparatorChar));
    }

    private static byte[]? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static string SafeName(string name)
    {
        var safe = new System.Text.StringBuilder(name.Length);
        foreach (char c in name)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c == '.' || c == '-' ? c : '_');
        }

        return safe.ToString();
    }
}

/// <summary>A cache in memory, for one run of a tool.</summary>
public sealed class MemorySumDbCache : ISumDbCache
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> _tiles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _heads = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>How many tiles are cached.</summary>
    public int TileCount => _tiles.Count;

    public ValueTask<byte[]?> GetTileAsync(string tilePath, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_tiles.TryGetValue(tilePath, out var data) ? data : null);

    public ValueTask PutTileAsync(string tilePath, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (SumDbCaches.IsTilePath(tilePath))
        {
            _tiles[tilePath] = data.ToArray();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask EvictTileAsync(string tilePath, CancellationToken cancellationToken)
    {
        _tiles.TryRemove(tilePath, out _);
        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> GetTreeHeadAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_heads.TryGetValue(name, out var note) ? note : null);
        }
    }

    public ValueTask<bool> TryAdvanceTreeHeadAsync(string name, byte[]? expected, byte[] next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        lock (_gate)
        {
            var current = _heads.GetValueOrDefault(name);
            if (!SumDbCaches.SameNote(current, expected) || (current is not null && SumDbCaches.TreeSizeOf(next) < SumDbCaches.TreeSizeOf(current)))
            {
                return ValueTask.FromResult(false);
            }

            _heads[name] = next.ToArray();
            return ValueTask.FromResult(true);
        }
    }
}

/// <summary>Whole-file writes under a temporary name in the same directory, flushed, then renamed into place.</summary>
public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(data);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}

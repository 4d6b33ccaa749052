using System.Net;
using Warren.Core.SumDb;

namespace Warren.Server.SumDb;

/// <summary>Reads hash tiles from a checksum database over HTTP, through a directory cache. One instance serves one
/// verification; it remembers which tiles came from the cache so that a cache that fails authentication can be
/// evicted and the verification retried from the network.</summary>
/// <remarks>Cache layout mirrors the URL space: &lt;cache&gt;/tile/H/L/NNN for full tiles (immutable forever) and
/// &lt;cache&gt;/tile/H/L/NNN.p/W for partial tiles (immutable for a given width; removed when the full tile is
/// cached). Tiles are only written after <see cref="TileHashReader"/> has authenticated them.</remarks>
internal sealed class SumDbClientTiles : ITileReader
{
    private readonly HttpClient _http;
    private readonly Uri _baseUrl;
    private readonly string _cacheDirectory;
    private readonly HashSet<Tile> _fromCache = [];
    private readonly Lock _gate = new();

    public SumDbClientTiles(HttpClient http, Uri baseUrl, string cacheDirectory, int height)
    {
        _http = http;
        _baseUrl = baseUrl;
        _cacheDirectory = cacheDirectory;
        Height = height;
    }

    public int Height { get; }

    /// <summary>Tiles answered from the cache so far.</summary>
    public IReadOnlyList<Tile> FromCache
    {
        get
        {
            lock (_gate)
            {
                return [.. _fromCache];
            }
        }
    }

    public async ValueTask<IReadOnlyList<byte[]>> ReadTilesAsync(IReadOnlyList<Tile> tiles, CancellationToken cancellationToken = default)
    {
        var tasks = new Task<byte[]>[tiles.Count];
        for (int i = 0; i < tiles.Count; i++)
        {
            tasks[i] = ReadTileAsync(tiles[i], cancellationToken);
        }

        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public ValueTask SaveTilesAsync(IReadOnlyList<Tile> tiles, IReadOnlyList<byte[]> data, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < tiles.Count; i++)
        {
            var tile = tiles[i];
            bool cached;
            lock (_gate)
            {
                cached = _fromCache.Contains(tile);
            }

            if (cached)
            {
                continue;
            }

            try
            {
                WriteAtomically(CachePath(tile), data[i]);
                if (tile.IsFull)
                {
                    var partials = CachePath(tile) + ".p";
                    if (Directory.Exists(partials))
                    {
                        Directory.Delete(partials, recursive: true);
                    }
                }
            }
            catch (IOException)
            {
                // The cache is an optimisation: a tile that cannot be written is fetched again next time.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Deletes the cached copies of the given tiles (after they failed authentication).</summary>
    public void Evict(IEnumerable<Tile> tiles)
    {
        foreach (var tile in tiles)
        {
            foreach (var path in new[] { CachePath(tile), CachePath(tile.Full) })
            {
                try
                {
                    File.Delete(path);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }

    internal static void WriteAtomically(string path, byte[] data)
    {
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

    private string CachePath(Tile tile) => Path.Combine(_cacheDirectory, tile.Path.Replace('/', Path.DirectorySeparatorChar));

    private async Task<byte[]> ReadTileAsync(Tile tile, CancellationToken cancellationToken)
    {
        int size = tile.Width * LogHash.Size;
        if (TryReadCache(tile.Full, out var full) && full.Length == (1 << tile.Height) * LogHash.Size)
        {
            MarkCached(tile);
            return full[..size];
        }

        if (!tile.IsFull && TryReadCache(tile, out var partial) && partial.Length == size)
        {
            MarkCached(tile);
            return partial;
        }

        var (status, body) = await SumDbClientHttp.GetAsync(_http, _baseUrl, tile.Path, size, cancellationToken).ConfigureAwait(false);
        if (status == HttpStatusCode.OK)
        {
            return body!.Length == size
                ? body
                : throw new SumDbInvalidResponseException($"{tile.Path}: malformed tile ({body.Length} bytes, want {size})");
        }

        if ((status == HttpStatusCode.NotFound || status == HttpStatusCode.Gone) && !tile.IsFull)
        {
            // A partial tile may be gone once its full tile exists: use the full tile's prefix.
            int fullSize = (1 << tile.Height) * LogHash.Size;
            (status, body) = await SumDbClientHttp.GetAsync(_http, _baseUrl, tile.Full.Path, fullSize, cancellationToken).ConfigureAwait(false);
            if (status == HttpStatusCode.OK)
            {
                return body!.Length == fullSize
                    ? body[..size]
                    : throw new SumDbInvalidResponseException($"{tile.Full.Path}: malformed tile ({body.Length} bytes, want {fullSize})");
            }
        }

        throw SumDbClientHttp.StatusError(_baseUrl, tile.Path, status);
    }

    private bool TryReadCache(Tile tile, out byte[] data)
    {
        data = [];
        var path = CachePath(tile);
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            data = File.ReadAllBytes(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void MarkCached(Tile tile)
    {
        lock (_gate)
        {
            _fromCache.Add(tile);
        }
    }
}

using System.Net;
using Warren.Core.SumDb;
using Warren.Protocol.GoProxy;

namespace Warren.Protocol.SumDb;

/// <summary>Reads hash tiles from a checksum database over HTTP, through an <see cref="ISumDbCache"/>. One instance
/// serves one verification; it remembers which tiles came from the cache so that a cache that fails authentication can
/// be evicted and the verification retried from the network.</summary>
/// <remarks>Full tiles are immutable forever, partial tiles for a given width. Tiles are only put in the cache after
/// <see cref="TileHashReader"/> has authenticated them.</remarks>
internal sealed class SumDbClientTiles : ITileReader
{
    private readonly GoProxyClient _http;
    private readonly Uri _baseUrl;
    private readonly ISumDbCache _cache;
    private readonly HashSet<Tile> _fromCache = [];
    private readonly Lock _gate = new();

    public SumDbClientTiles(GoProxyClient http, Uri baseUrl, ISumDbCache cache, int height)
    {
        _http = http;
        _baseUrl = baseUrl;
        _cache = cache;
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

    public async ValueTask SaveTilesAsync(IReadOnlyList<Tile> tiles, IReadOnlyList<byte[]> data, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < tiles.Count; i++)
        {
            var tile = tiles[i];
            bool cached;
            lock (_gate)
            {
                cached = _fromCache.Contains(tile);
            }

            if (!cached)
            {
                await _cache.PutTileAsync(tile.Path, data[i], cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Deletes the cached copies of the given tiles (after they failed authentication).</summary>
    public async ValueTask EvictAsync(IEnumerable<Tile> tiles, CancellationToken cancellationToken)
    {
        foreach (var tile in tiles)
        {
            await _cache.EvictTileAsync(tile.Path, cancellationToken).ConfigureAwait(false);
            if (!tile.IsFull)
            {
                await _cache.EvictTileAsync(tile.Full.Path, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<byte[]> ReadTileAsync(Tile tile, CancellationToken cancellationToken)
    {
        int size = tile.Width * LogHash.Size;
        if (await _cache.GetTileAsync(tile.Full.Path, cancellationToken).ConfigureAwait(false) is { } full && full.Length == (1 << tile.Height) * LogHash.Size)
        {
            MarkCached(tile);
            return full[..size];
        }

        if (!tile.IsFull && await _cache.GetTileAsync(tile.Path, cancellationToken).ConfigureAwait(false) is { } partial && partial.Length == size)
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

    private void MarkCached(Tile tile)
    {
        lock (_gate)
        {
            _fromCache.Add(tile);
        }
    }
}

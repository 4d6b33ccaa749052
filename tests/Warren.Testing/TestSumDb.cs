using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Warren.Core.SumDb;

namespace Warren.Testing;

/// <summary>A real checksum database on 127.0.0.1, built from the Core primitives: a tree of go.sum records signed
/// with a fresh key, serving /latest, /lookup/… and /tile/…, with hooks to misbehave.</summary>
public sealed class TestSumDb : IAsyncDisposable
{
    public const int Height = SumDbProtocol.DefaultTileHeight;

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private MemoryHashStore _store = new();
    private List<byte[]> _records = [];
    private Dictionary<string, long> _ids = new(StringComparer.Ordinal);

    private TestSumDb(WebApplication app, int port, string name)
    {
        _app = app;
        Url = $"http://127.0.0.1:{port}/";
        (SignerKey, VerifierKey) = NoteKeys.GenerateKey(name);
        Signer = NoteSigner.Parse(SignerKey);
    }

    public string Url { get; }

    public string SignerKey { get; }

    public string VerifierKey { get; }

    public NoteSigner Signer { get; }

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Return true when the hook wrote the response itself.</summary>
    public Func<HttpContext, Task<bool>>? Intercept { get; set; }

    /// <summary>When set, the server answers every request with this status.</summary>
    public int? FailWith { get; set; }

    /// <summary>When set, lookups are answered with the tree of this size (a lagging replica).</summary>
    public long? ServeTreeSize { get; set; }

    /// <summary>Rewrites the record text of lookup responses.</summary>
    public Func<string, string>? TamperRecord { get; set; }

    /// <summary>Flips a byte of every hash tile served.</summary>
    public bool TamperTiles { get; set; }

    public long Size
    {
        get
        {
            lock (_gate)
            {
                return _records.Count;
            }
        }
    }

    public int TileRequests => Requests.Count(r => r.StartsWith("/tile/", StringComparison.Ordinal));

    public static async Task<TestSumDb> StartAsync(string name = "sum.test.example")
    {
        TestSumDb? self = null;
        var (app, url) = await LoopbackApp.StartAsync(context => self!.HandleAsync(context)).ConfigureAwait(false);
        self = new TestSumDb(app, new Uri(url).Port, name);
        return self;
    }

    /// <summary>A syntactically valid h1 hash derived from a seed.</summary>
    public static string FakeHash(string seed) => "h1:" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(seed)));

    /// <summary>Appends the record of path@version; returns its id.</summary>
    public long Add(string path, string version, string? zipHash = null, string? goModHash = null)
    {
        var text = GoSumRecord.FormatBytes(path, version, zipHash ?? FakeHash(path + "@" + version), goModHash ?? FakeHash(path + "@" + version + "/go.mod"));
        lock (_gate)
        {
            long id = _store.AppendRecord(text);
            _records.Add(text);
            _ids[SumDbProtocol.LookupPath(path, version)] = id;
            return id;
        }
    }

    /// <summary>Appends arbitrary record text, served for path@version; returns its id.</summary>
    public long AddRaw(string path, string version, byte[] text)
    {
        lock (_gate)
        {
            long id = _store.AppendRecord(text);
            _records.Add(text);
            _ids[SumDbProtocol.LookupPath(path, version)] = id;
            return id;
        }
    }

    /// <summary>Appends n filler records.</summary>
    public void AddFiller(int n, string prefix = "example.com/filler")
    {
        for (int i = 0; i < n; i++)
        {
            Add($"{prefix}{i}", "v1.0.0");
        }
    }

    /// <summary>Throws the log away (same key, same address): the next records form a different log.</summary>
    public void ResetLog()
    {
        lock (_gate)
        {
            _store = new MemoryHashStore();
            _records = [];
            _ids = new Dictionary<string, long>(StringComparer.Ordinal);
        }
    }

    public async Task<TreeHead> TreeAsync(long? size = null)
    {
        MemoryHashStore store;
        long n;
        lock (_gate)
        {
            store = _store;
            n = size ?? _records.Count;
        }

        return new TreeHead(n, await Tlog.TreeHashAsync(n, store));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        Requests.Enqueue(path);
        if (Intercept is { } hook && await hook(context))
        {
            return;
        }

        if (FailWith is int status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsync("unavailable\n");
            return;
        }

        MemoryHashStore store;
        List<byte[]> records;
        Dictionary<string, long> ids;
        lock (_gate)
        {
            store = _store;
            records = [.. _records];
            ids = _ids;
        }

        if (path == "/latest")
        {
            var tree = new TreeHead(records.Count, await Tlog.TreeHashAsync(records.Count, store));
            await WriteAsync(context, tree.Sign(Signer));
            return;
        }

        if (path.StartsWith("/lookup/", StringComparison.Ordinal) && ids.TryGetValue(path[1..], out long id))
        {
            long n = ServeTreeSize ?? records.Count;
            var tree = new TreeHead(n, await Tlog.TreeHashAsync(n, store));
            var text = records[(int)id];
            if (TamperRecord is { } tamper)
            {
                text = Encoding.UTF8.GetBytes(tamper(Encoding.UTF8.GetString(text)));
            }

            await WriteAsync(context, SumDbProtocol.FormatLookupResponse(id, text, tree.Sign(Signer)));
            return;
        }

        if (path.StartsWith("/tile/", StringComparison.Ordinal) && Tile.TryParsePath(path[1..], out var tile) && tile.Height == Height)
        {
            long available = records.Count >> (tile.IsData ? 0 : tile.Level * tile.Height);
            long end = (tile.Number << tile.Height) + tile.Width;
            if (end <= available)
            {
                byte[] data;
                if (tile.IsData)
                {
                    long first = tile.Number << tile.Height;
                    data = SumDbProtocol.FormatDataTile(tile, records.GetRange((int)first, tile.Width));
                }
                else
                {
                    data = await Tile.ReadDataAsync(tile, store);
                    if (TamperTiles)
                    {
                        data[^1] ^= 1;
                    }
                }

                await WriteAsync(context, data);
                return;
            }
        }

        context.Response.StatusCode = 404;
        await context.Response.WriteAsync("not found: " + path + "\n");
    }

    private static async Task WriteAsync(HttpContext context, byte[] body)
    {
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }
}

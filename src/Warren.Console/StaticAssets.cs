using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Warren.WebConsole;

/// <summary>The console's stylesheet, script and icons, embedded in the assembly and served by Warren itself under
/// /ui/static/NAME. Pages link them as NAME?v=HASH: such a URL is cached for a year (immutable), a bare one revalidates
/// with its ETag.</summary>
public sealed class StaticAssets
{
    public const string Prefix = "/ui/static/";

    private readonly FrozenDictionary<string, Asset> _assets;

    public StaticAssets()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith("console-assets/", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var name = resource["console-assets/".Length..];
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
            assets[name] = new Asset(bytes, ContentType(name), hash);
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The versioned URL of an asset (its content hash as v).</summary>
    public string Url(string name) => _assets.TryGetValue(name, out var a) ? Prefix + name + "?v=" + a.Hash : Prefix + name;

    internal IResult Serve(HttpContext context, string name)
    {
        if (!_assets.TryGetValue(name, out var asset))
        {
            return Results.Text("not found: no console asset " + Sanitize(name) + "\n", "text/plain; charset=utf-8", statusCode: 404);
        }

        var etag = "\"" + asset.Hash + "\"";
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = context.Request.Query["v"] == asset.Hash ? "public, max-age=31536000, immutable" : "no-cache";
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static string Sanitize(string name) => name.Length > 80 ? name[..80] + "…" : name.Replace('\n', ' ');

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Bytes, string ContentType, string Hash);
}

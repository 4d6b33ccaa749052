using System.Net;
using Warren.Protocol.GoProxy;
using Warren.Protocol.ModCache;

namespace Warren.Tools.Prefetch;

/// <summary>A GOPROXY request that did not succeed: the HTTP status (null when there was no answer) and the reason.</summary>
public sealed class ProxyFetchException : Exception
{
    public ProxyFetchException()
    {
    }

    public ProxyFetchException(string message)
        : base(message)
    {
    }

    public ProxyFetchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ProxyFetchException(string message, HttpStatusCode? status)
        : base(message)
    {
        Status = status;
    }

    public HttpStatusCode? Status { get; }
}

/// <summary>Prefetch's view of one proxy: the <see cref="GoProxyClient"/> with retries of transient failures, and
/// anything but success turned into a <see cref="ProxyFetchException"/> (for prefetch, every failure is a finding).</summary>
public sealed class ModuleProxyClient
{
    private static readonly GoProxyRequest StatusOnly = new(Configured: false);

    private readonly GoProxyClient _client;
    private readonly Uri _base;

    /// <param name="proxyUrl">The proxy's base URL.</param>
    /// <param name="http">The client to fetch with (null: the tools' shared "prefetch" client).</param>
    /// <param name="attempts">Tries per request when the proxy fails transiently.</param>
    public ModuleProxyClient(string proxyUrl, HttpClient? http = null, int attempts = 3)
    {
        ArgumentException.ThrowIfNullOrEmpty(proxyUrl);
        BaseUrl = proxyUrl.TrimEnd('/');
        _base = new Uri(BaseUrl + "/");
        _client = new GoProxyClient(http ?? ToolHttp.Shared.CreateClient(ToolHttp.Prefetch), new GoProxyClientOptions { Attempts = attempts });
    }

    public string BaseUrl { get; }

    /// <summary>The URL of path/@v/version + suffix (".info", ".mod", ".zip"), with the path and version escaped.</summary>
    /// <exception cref="ProxyFetchException">The path or version cannot be escaped.</exception>
    public string Url(ModuleKey module, string suffix) => BaseUrl + "/" + Relative(module, suffix);

    /// <summary>The go.mod of a module version (small, so held in memory).</summary>
    public async Task<byte[]> GetGoModAsync(ModuleKey module, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await CopyAsync(module, ".mod", buffer, GoProxyPaths.MaxGoMod, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Streams the body of path/@v/version+suffix into destination; returns the number of bytes.</summary>
    /// <exception cref="ProxyFetchException">Not a successful answer, a network failure, or more than limit bytes.</exception>
    public async Task<long> CopyAsync(ModuleKey module, string suffix, Stream destination, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        // The status line is the message ("GET URL: 404 Not Found"): a proxy's own text is not echoed.
        var result = await _client.GetAsync(GoProxyClient.Join(_base, Relative(module, suffix)), destination, limit, cancellationToken, StatusOnly)
            .ConfigureAwait(false);
        return result.IsOk
            ? result.Bytes
            : throw new ProxyFetchException("GET " + result.Reason, result.Failure == ProxyFailure.Status ? (HttpStatusCode?)result.HttpStatus : null);
    }

    private static string Relative(ModuleKey module, string suffix) =>
        GoProxyPaths.TryVersionFile(module.Path, module.Version, suffix, out var relative, out var error) ? relative : throw new ProxyFetchException(error);
}

/// <summary>The module cache layout addressed by <see cref="ModuleKey"/>; a path or version that cannot be escaped is a
/// <see cref="ProxyFetchException"/>.</summary>
public static class ModCacheLayoutExtensions
{
    public static string PathOf(this ModCacheLayout layout, ModuleKey module, string suffix) =>
        Guard(() => layout.PathOf(module.Path, module.Version, suffix));

    public static bool HasZip(this ModCacheLayout layout, ModuleKey module, string? expectedHash) =>
        Guard(() => layout.HasZip(module.Path, module.Version, expectedHash));

    public static Task WriteAtomicallyAsync(this ModCacheLayout layout, ModuleKey module, string suffix, byte[] content, CancellationToken cancellationToken) =>
        Guard(() => layout.WriteAtomicallyAsync(module.Path, module.Version, suffix, content, cancellationToken));

    private static T Guard<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return action();
        }
        catch (ArgumentException e)
        {
            throw new ProxyFetchException(e.Message, e);
        }
    }
}

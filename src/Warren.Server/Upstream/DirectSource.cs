using Warren.Core.Limits;
using Warren.Fetch.Direct;

namespace Warren.Server.Upstream;

/// <summary>`direct`: the origin repositories, through git (or the GOPROXY a go-import "mod" tag names).</summary>
public sealed class DirectSource(DirectFetcher fetcher, HttpDownloader downloader) : IModuleSource
{
    // Keyed by what go-import tags name: bounded, so made-up proxies cannot grow it.
    private readonly BoundedCache<ProxySource> _modProxies = new(256);

    public string Name => "direct";

    public async Task<FetchOutcome> FetchAsync(ModuleRequest request, string destinationPath, CancellationToken cancellationToken)
    {
        var kind = request.Kind switch
        {
            RequestKind.List => DirectKind.List,
            RequestKind.Latest => DirectKind.Latest,
            RequestKind.Info => DirectKind.Info,
            RequestKind.Mod => DirectKind.Mod,
            _ => DirectKind.Zip,
        };
        var fetch = await fetcher.FetchAsync(request.ModulePath, request.Version, kind, destinationPath, cancellationToken).ConfigureAwait(false);
        if (fetch.ModProxy is { } proxy)
        {
            var source = _modProxies.GetOrAdd(proxy.AbsoluteUri, new ProxySource(proxy.AbsoluteUri, downloader));
            return await source.FetchAsync(request, destinationPath, cancellationToken).ConfigureAwait(false);
        }

        var message = HttpDownloader.FirstLine(fetch.Result.Message);
        return fetch.Result.Status switch
        {
            DirectStatus.Ok => FetchOutcome.Ok(Name, new FileInfo(destinationPath).Length),
            DirectStatus.NotFound => FetchOutcome.NotFound(Name, message),
            DirectStatus.Timeout => FetchOutcome.Failed(Name, message, 504),
            _ => FetchOutcome.Failed(Name, message),
        };
    }
}

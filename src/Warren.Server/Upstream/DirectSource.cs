using Warren.Core.Limits;
using Warren.Fetch.Direct;

namespace Warren.Server.Upstream;

/// <summary>`direct`: the origin repositories, through git (or the GOPROXY a go-import "mod" tag names). Only module
/// paths matching --direct (when given) may use it; every other path gets the "not found" an empty source gives.</summary>
public sealed class DirectSource(DirectFetcher fetcher, HttpDownloader downloader, IOptions<WarrenOptions> options, ILogger<DirectSource> logger, UpstreamCredentials? credentials = null) : IModuleSource
{
    // Keyed by what go-import tags name: bounded, so made-up proxies cannot grow it.
    private readonly BoundedCache<ProxySource> _modProxies = new(256);
    private readonly string? _directPatterns = options.Value.Direct;

    /// <summary>Whether --direct lets this module path use direct mode.</summary>
    public bool IsAllowed(string modulePath) => _directPatterns is null || ModulePatterns.MatchPrefixPatterns(_directPatterns, modulePath);

    /// <summary>The name of this source in the chain, logs and metrics.</summary>
    public const string SourceName = "direct";

    public string Name => SourceName;

    public async Task<FetchOutcome> FetchAsync(ModuleRequest request, string destinationPath, CancellationToken cancellationToken)
    {
        using var activity = Warren.Core.Diagnostics.WarrenActivity.Source.StartActivity(Warren.Core.Diagnostics.WarrenActivity.UpstreamFetch);
        activity?.SetTag("warren.upstream", Name).SetTag("warren.module", request.ModulePath).SetTag("warren.kind", request.Kind.ToString());
        if (!IsAllowed(request.ModulePath))
        {
            Log.DirectNotAllowed(logger, request.ModulePath, _directPatterns!);
            return FetchOutcome.NotFound(Name, $"{request.ModulePath}: direct mode is not enabled for this module path");
        }

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
            var source = _modProxies.GetOrAdd(proxy.AbsoluteUri, new ProxySource(proxy.AbsoluteUri, downloader, credentials));
            return await source.FetchAsync(request, destinationPath, cancellationToken).ConfigureAwait(false);
        }

        var message = downloader.Redact(HttpDownloader.FirstLine(fetch.Result.Message));
        return fetch.Result.Status switch
        {
            DirectStatus.Ok => FetchOutcome.Ok(Name, new FileInfo(destinationPath).Length),
            DirectStatus.NotFound => FetchOutcome.NotFound(Name, message),
            DirectStatus.Timeout => FetchOutcome.Failed(Name, message, timedOut: true),
            _ => FetchOutcome.Failed(Name, message),
        };
    }
}

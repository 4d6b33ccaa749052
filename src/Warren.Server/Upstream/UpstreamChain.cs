using Warren.Protocol;
using Warren.Protocol.GoProxy;

namespace Warren.Server.Upstream;

/// <summary>A fetched answer: the outcome and, when it is Ok, the staged file that holds the body (the caller owns it).</summary>
public sealed record ChainResult(FetchOutcome Outcome, string? File);

/// <summary>The configured chain of sources with the go command's fall-through rules and GONOPROXY routing.</summary>
public sealed class UpstreamChain
{
    private readonly (IModuleSource Source, bool FallBackOnError)[] _entries;
    private readonly IModuleSource _direct;
    private readonly string _noProxy;
    private readonly WarrenMetrics _metrics;
    private readonly ILogger<UpstreamChain> _logger;

    public UpstreamChain(IOptions<WarrenOptions> options, ProtocolSettings settings, HttpDownloader downloader, DirectSource direct, WarrenMetrics metrics,
        ILogger<UpstreamChain> logger, UpstreamCredentials? credentials = null)
    {
        var o = options.Value;
        _direct = direct;
        _entries = settings.Upstream.Select(s => (s.IsDirect ? _direct : s.IsOff ? new OffSource(o.Offline) : (IModuleSource)new ProxySource(s.Url, downloader, credentials, configured: true), s.FallBackOnError)).ToArray();
        // GONOPROXY, and GOPRIVATE whatever GONOPROXY says: a private path is never shown to an upstream proxy.
        _noProxy = string.Join(',', new[] { o.NoProxy, o.Private }.Where(p => !string.IsNullOrWhiteSpace(p)));
        _metrics = metrics;
        _logger = logger;
        foreach (var proxy in Proxies)
        {
            if (proxy.CredentialSource is { } from)
            {
                Log.UpstreamCredentials(logger, proxy.Name, from);
            }
            else if (proxy.NetrcWithheld)
            {
                Log.UpstreamCredentialsWithheld(logger, proxy.Name);
            }
        }
    }

    /// <summary>The upstream proxies (http/https), in order.</summary>
    public IEnumerable<ProxySource> Proxies => _entries.Select(e => e.Source).OfType<ProxySource>();

    public bool IsNoProxy(string modulePath) => _noProxy.Length > 0 && ModulePatterns.MatchPrefixPatterns(_noProxy, modulePath);

    /// <summary>Asks the sources in order. newStagingFile gives a fresh path for each attempt.</summary>
    public async Task<ChainResult> FetchAsync(ModuleRequest request, Func<string> newStagingFile, CancellationToken cancellationToken)
    {
        if (IsNoProxy(request.ModulePath))
        {
            // GONOPROXY: never shown to a proxy; straight to the origin.
            return await TryOneAsync(_direct, request, newStagingFile, cancellationToken).ConfigureAwait(false);
        }

        // The most helpful error wins, as in the go command: direct, then a proxy's failure, then "not found".
        FetchOutcome? best = null;
        var bestRank = 0;
        foreach (var (source, fallBackOnError) in _entries)
        {
            var result = await TryOneAsync(source, request, newStagingFile, cancellationToken).ConfigureAwait(false);
            if (result.Outcome.IsOk)
            {
                return result;
            }

            var outcome = result.Outcome;
            var notFound = outcome.IsNotFound;
            if (source is DirectSource)
            {
                (best, bestRank) = (outcome, 2);
            }
            else if (bestRank <= 1 && !notFound)
            {
                (best, bestRank) = (outcome, 1);
            }
            else if (bestRank == 0)
            {
                best = outcome;
            }

            if (!fallBackOnError && !notFound)
            {
                break;
            }
        }

        return new ChainResult(best!, null);
    }

    private async Task<ChainResult> TryOneAsync(IModuleSource source, ModuleRequest request, Func<string> newStagingFile, CancellationToken cancellationToken)
    {
        var file = newStagingFile();
        FetchOutcome outcome;
        TimeSpan elapsed;
        try
        {
            (outcome, elapsed) = await _metrics.MeasureFetchAsync(request.Kind.Label(), () => source.FetchAsync(request, file, cancellationToken)).ConfigureAwait(false);
        }
        catch
        {
            TryDelete(file);
            throw;
        }

        Log.UpstreamFetch(_logger, request.ToString(), source.Name, outcome.Status, elapsed.TotalMilliseconds, outcome.Reason);
        if (!outcome.IsOk)
        {
            TryDelete(file);
            return new ChainResult(outcome, null);
        }

        return new ChainResult(outcome, file);
    }

    internal static void TryDelete(string path)
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

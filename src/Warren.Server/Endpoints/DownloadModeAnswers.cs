using Prometheus;
using Warren.Server.Ingest;
using Warren.Server.Upstream;

namespace Warren.Server.Endpoints;

/// <summary>A 302 to another server (an upstream proxy under a redirect download mode).</summary>
public sealed record RedirectAnswer(Uri Location) : ServeResult;

/// <summary>Applies the download mode of a request's module path (--download-mode) after access control and before
/// the usual handling. Stored .info/.mod/.zip are served from the store in every mode; a missing one is fetched
/// (sync), left to a background fetch (async: 404; async_redirect: 302), redirected to the first upstream proxy
/// (redirect), or refused with a one-line 404 (none, offline). list and @latest are answered as usual except under
/// the redirect modes (302: the upstream proxy answers) and offline (from the versions held only); a query (.info of
/// a branch, tag or commit) is redirected under the redirect modes and refused under none and offline, since
/// answering it means asking upstream.</summary>
public sealed class DownloadModeAnswers
{
    private readonly DownloadModePolicy _policy;
    private readonly ModuleService _modules;
    private readonly BackgroundFetchQueue _background;
    private readonly ILogger<DownloadModeAnswers> _logger;
    private readonly Counter _answers;

    public DownloadModeAnswers(DownloadModePolicy policy, ModuleService modules, BackgroundFetchQueue background, WarrenMetrics metrics, ILogger<DownloadModeAnswers> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _policy = policy;
        _modules = modules;
        _background = background;
        _logger = logger;
        _answers = Metrics.WithCustomRegistry(metrics.Registry).CreateCounter("warren_download_mode_answers_total",
            "Requests a download mode answered without a synchronous fetch, by mode and answer (redirect, not_fetched).", ["mode", "answer"]);
    }

    /// <summary>The answer the path's download mode gives, or null to handle the request as usual.</summary>
    public async Task<ServeResult?> TryAnswerAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_policy.IsConfigured || request.Route == ProxyRoute.SumDb)
        {
            return null;
        }

        var mode = _policy.Decide(request.ModulePath);
        if (mode == DownloadMode.Sync)
        {
            return null;
        }

        switch (request.Route)
        {
            case ProxyRoute.Info or ProxyRoute.Mod or ProxyRoute.Zip:
                var kind = request.Route switch
                {
                    ProxyRoute.Info => ArtifactKind.Info,
                    ProxyRoute.Mod => ArtifactKind.Mod,
                    _ => ArtifactKind.Zip,
                };
                return await _modules.GetHeldArtifactAsync(request.ModulePath, request.Version!, kind, cancellationToken).ConfigureAwait(false)
                       ?? Missing(mode, request, kind);

            case ProxyRoute.List or ProxyRoute.Latest when mode == DownloadMode.Offline:
                var held = request.Route == ProxyRoute.List
                    ? await _modules.GetHeldListAsync(request.ModulePath, cancellationToken).ConfigureAwait(false)
                    : await _modules.GetHeldLatestAsync(request.ModulePath, cancellationToken).ConfigureAwait(false);
                return held ?? NotFetched(mode, Describe(request), $"not in this mirror: download mode offline for this path, and no version of {request.ModulePath} is stored");

            case ProxyRoute.List or ProxyRoute.Latest or ProxyRoute.Query when mode.Redirects():
                return Redirect(mode, ToModuleRequest(request, RequestKindOf(request.Route)));

            case ProxyRoute.Query when mode is DownloadMode.None or DownloadMode.Offline:
                return NotFetched(mode, Describe(request), $"not fetched: download mode {mode.Name()} for this path (resolving {request.Version} needs an upstream)");

            default:
                return null;
        }
    }

    /// <summary>A canonical version's artifact this node does not hold.</summary>
    private ServeResult Missing(DownloadMode mode, ProxyRequest request, ArtifactKind kind)
    {
        var queued = mode.FetchesInBackground() ? _background.Enqueue(request.ModulePath, request.Version!) : (BackgroundQueueing?)null;
        var what = Describe(request);
        return mode switch
        {
            DownloadMode.Redirect or DownloadMode.AsyncRedirect => Redirect(mode, ToModuleRequest(request, RequestKindOf(request.Route))),
            DownloadMode.Async when queued == BackgroundQueueing.Dropped =>
                NotFetched(mode, what, "not fetched yet: download mode async for this path, and the background queue is full; try again later"),
            DownloadMode.Async => NotFetched(mode, what, $"not fetched yet: download mode async for this path; {request.ModulePath}@{request.Version} is being fetched in the background, try again shortly"),
            DownloadMode.Offline => NotFetched(mode, what, $"not in this mirror: download mode offline for this path serves only what is stored ({ModuleIngestor.Label(kind)} of {request.ModulePath}@{request.Version} is not)"),
            _ => NotFetched(mode, what, "not fetched: download mode none for this path"),
        };
    }

    private ServeResult Redirect(DownloadMode mode, ModuleRequest request)
    {
        if (_policy.RedirectTarget(request) is not { } location)
        {
            return NotFetched(mode, request.ToString(), $"not fetched: download mode {mode.Name()} for this path, and {request} cannot be written as an upstream proxy's URL");
        }

        _answers.WithLabels(mode.Name(), "redirect").Inc();
        Log.DownloadRedirected(_logger, request.ToString(), location.AbsoluteUri, mode.Name());
        return new RedirectAnswer(location);
    }

    private Outcome NotFetched(DownloadMode mode, string request, string message)
    {
        _answers.WithLabels(mode.Name(), "not_fetched").Inc();
        Log.DownloadNotFetched(_logger, request, mode.Name());
        return Outcome.NotFound(message);
    }

    private static string Describe(ProxyRequest request) =>
        request.Version is null ? $"{request.ModulePath} {request.Route.ToString().ToLowerInvariant()}" : $"{request.ModulePath}@{request.Version} {request.Route.ToString().ToLowerInvariant()}";

    private static RequestKind RequestKindOf(ProxyRoute route) => route switch
    {
        ProxyRoute.List => RequestKind.List,
        ProxyRoute.Latest => RequestKind.Latest,
        ProxyRoute.Mod => RequestKind.Mod,
        ProxyRoute.Zip => RequestKind.Zip,
        _ => RequestKind.Info,
    };

    private static ModuleRequest ToModuleRequest(ProxyRequest request, RequestKind kind) =>
        new(request.ModulePath, kind is RequestKind.List or RequestKind.Latest ? null : request.Version, kind);
}

/// <summary>Registers the download modes (--download-mode).</summary>
public static class DownloadModeServices
{
    public static IServiceCollection AddDownloadModes(this IServiceCollection services, WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The rules, parsed once (the validator has refused a setting that does not parse).
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WarrenOptions>>();
            return new DownloadModePolicy(DownloadModePolicy.Parse(o.Value.DownloadMode).Rules, o, sp.GetRequiredService<Warren.Protocol.ProtocolSettings>());
        });
        services.AddSingleton<BackgroundFetchQueue>();
        services.AddSingleton<BackgroundFetches>();
        services.AddSingleton<DownloadModeAnswers>();
        if (!string.IsNullOrWhiteSpace(options.DownloadMode) || options.PrefetchMode is not (null or PrefetchMode.Off))
        {
            services.AddHostedService(sp => sp.GetRequiredService<BackgroundFetches>());
        }

        return services;
    }
}

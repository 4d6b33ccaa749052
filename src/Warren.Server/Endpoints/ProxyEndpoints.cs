using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using Warren.Server.Auth;
using Warren.Server.Ingest;
using Warren.Server.Storage;
using Warren.Server.SumDb;


namespace Warren.Server.Endpoints;

/// <summary>The GOPROXY protocol, /sumdb/ and the operational endpoints.</summary>
public static class ProxyEndpoints
{
    public const string RouteItem = "warren.route";

    public static IEndpointRouteBuilder MapWarren(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/healthz", ["GET", "HEAD"], (HttpContext context) => Text(context, "health", 200, "ok"));
        app.MapMethods("/readyz", ["GET", "HEAD"], async (HttpContext context, IArtifactStore store, IModuleIndex index, StagingArea staging) =>
        {
            var reason = staging.Probe() ?? await store.ProbeAsync(context.RequestAborted) ?? await index.ProbeAsync(context.RequestAborted);
            if (ReadinessReport.Wanted(context.Request))
            {
                return ReadinessReport.Render(context, reason);
            }

            return reason is null ? Text(context, "ready", 200, "ready") : Text(context, "ready", 503, "not ready: " + reason);
        });
        app.MapGet("/metrics", (HttpContext context, WarrenMetrics metrics) =>
        {
            context.Items[RouteItem] = "metrics";
            return Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
        });
        app.MapMethods("/index", ["GET", "HEAD"], IndexFeed.HandleAsync);
        // The proxy's services are singletons: resolved once, at the first request (not while the application is
        // built: start-up validation and log providers come first), instead of from a request scope on every request.
        var services = app.ServiceProvider;
        ProxyServices? proxy = null;
        app.MapMethods("/{**path}", ["GET", "HEAD"], async context =>
        {
            var p = proxy ??= new ProxyServices(services.GetRequiredService<ModuleService>(), services.GetRequiredService<SumDbProxy>(),
                services.GetRequiredService<DownloadModeAnswers>(), services.GetRequiredService<IOptions<WarrenOptions>>(), services.GetRequiredService<Policy.PolicyGate>());
            var result = await HandleAsync(context, p.Modules, p.SumDb, p.Modes, p.Options, p.Policy).ConfigureAwait(false);
            await result.ExecuteAsync(context).ConfigureAwait(false);
        });
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, ModuleService modules, SumDbProxy sumdb, DownloadModeAnswers modes, IOptions<WarrenOptions> options,
        Policy.PolicyGate policy)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (ProxyRequestParser.CheckRawTarget(raw) is { } rawError)
        {
            return Error(context, "invalid", rawError.Status, rawError.Message);
        }

        ProxyRequestError? error = null;
        var request = context.Items.TryGetValue(AccessControl.RequestItem, out var parsed) && parsed is ProxyRequest known
            ? known
            : ProxyRequestParser.Parse(context.Request.Path.Value ?? "/", out error);
        if (request is null)
        {
            return Error(context, "invalid", error!.Status, error.Message);
        }

        if (parsed is null)
        {
            // Parsed once: the download recording reads it after the response.
            context.Items[AccessControl.RequestItem] = request;
        }

        var ct = context.RequestAborted;

        // A zip the policy denies is refused before anything is fetched; list and @latest leave denied versions out.
        var gated = policy.IsActive;
        if (gated && request.Route == ProxyRoute.Zip && await policy.CheckZipAsync(context, request.ModulePath, request.Version!, ct) is { } denied)
        {
            return Send(context, "zip", denied, options.Value, request);
        }

        if (await modes.TryAnswerAsync(request, ct) is { } decided)
        {
            return Send(context, request.Route == ProxyRoute.Query ? "query" : request.Route.ToString().ToLowerInvariant(),
                gated ? await FilterAsync(policy, request, decided, ct) : decided, options.Value, request);
        }

        var (label, result) = request.Route switch
        {
            ProxyRoute.List => ("list", await modules.GetListAsync(request.ModulePath, ct)),
            ProxyRoute.Latest => ("latest", await modules.GetLatestAsync(request.ModulePath, ct)),
            ProxyRoute.Info => ("info", await modules.GetArtifactAsync(request.ModulePath, request.Version!, ArtifactKind.Info, ct)),
            ProxyRoute.Mod => ("mod", await modules.GetArtifactAsync(request.ModulePath, request.Version!, ArtifactKind.Mod, ct)),
            ProxyRoute.Zip => ("zip", await modules.GetArtifactAsync(request.ModulePath, request.Version!, ArtifactKind.Zip, ct, mayStream: IsPlainGet(context.Request))),
            ProxyRoute.Query => ("query", await modules.QueryInfoAsync(request.ModulePath, request.Version!, ct)),
            _ => ("sumdb", await sumdb.HandleAsync(request.SumDbRest!, ct)),
        };

        return Send(context, label, gated ? await FilterAsync(policy, request, result, ct) : result, options.Value, request);
    }

    private static async ValueTask<ServeResult> FilterAsync(Policy.PolicyGate policy, ProxyRequest request, ServeResult result, CancellationToken ct) => request.Route switch
    {
        ProxyRoute.List => await policy.FilterListAsync(request.ModulePath, result, ct),
        ProxyRoute.Latest => await policy.FilterLatestAsync(request.ModulePath, result, ct),
        _ => result,
    };

    private static IResult Send(HttpContext context, string label, ServeResult result, WarrenOptions options, ProxyRequest request)
    {
        context.Items[RouteItem] = label;
        switch (result)
        {
            case ArtifactAnswer { Artifact: var artifact }:
                var contentType = label switch
                {
                    "info" => "application/json",
                    "zip" => "application/zip",
                    "sumdb" => context.Request.Path.Value!.Contains("/tile/", StringComparison.Ordinal) ? "application/octet-stream" : "text/plain; charset=utf-8",
                    _ => "text/plain; charset=utf-8",
                };
                var cacheControl = AccessControl.CacheControl(context, ImmutableCacheControl(options));
                if (artifact.LocalPath is { } file)
                {
                    context.Response.Headers.CacheControl = cacheControl;
                    return Results.File(file, contentType, lastModified: artifact.LastModified, entityTag: new EntityTagHeaderValue(artifact.ETag), enableRangeProcessing: true);
                }

                return new StoredObjectResult(artifact, contentType, cacheControl, redirect: options.S3Redirect && label == "zip");

            case OpenArtifactAnswer { File: var open }:
                return new OpenFileResult(open, "application/zip", AccessControl.CacheControl(context, ImmutableCacheControl(options)));

            case LiveZipAnswer { Zip: var live }:
                return new LiveZipResult(live, AccessControl.CacheControl(context, ImmutableCacheControl(options)), context.RequestServices.GetRequiredService<LiveStages>(),
                    context.RequestServices.GetRequiredService<WarrenMetrics>(), context.RequestServices.GetRequiredService<ILogger<LiveZipResult>>());

            case MemoryArtifactAnswer { Artifact: var cached }:
                context.Response.Headers.CacheControl = AccessControl.CacheControl(context, ImmutableCacheControl(options));
                return Results.Bytes(cached.Body, label == "info" ? "application/json" : "text/plain; charset=utf-8",
                    lastModified: cached.LastModified, entityTag: new EntityTagHeaderValue(cached.ETag), enableRangeProcessing: true);

            case ContentAnswer content:
                context.Response.Headers.CacheControl = content.MaxAge > TimeSpan.Zero
                    ? AccessControl.CacheControl(context, "public, max-age=" + ((long)content.MaxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture))
                    : "no-cache";
                return Results.Bytes(content.Body, content.ContentType);

            case Outcome outcome:
                var status = OutcomeResponses.StatusCode(outcome);
                if (request.Route != ProxyRoute.SumDb)
                {
                    // The console's overview shows the last errors, each with its reason and module.
                    context.RequestServices.GetService<RecentErrors>()?.Record(label, status, request.ModulePath, request.Version, outcome.Message);
                }

                return Error(context, label, status, outcome.Message);

            case RedirectAnswer { Location: var location }:
                context.Response.Headers.CacheControl = "no-store";
                return Results.Redirect(location.AbsoluteUri);

            default:
                throw new InvalidOperationException("unknown result " + result.GetType().Name);
        }
    }

    private static string ImmutableCacheControl(WarrenOptions options) => options.ImmutableCacheControl;

    /// <summary>A GET with no range and no condition: the only request a zip may be streamed to while it is fetched.</summary>
    private static bool IsPlainGet(HttpRequest request) => HttpMethods.IsGet(request.Method) && !OpenFileResult.HasRangeOrCondition(request.Headers);

    private static IResult Error(HttpContext context, string label, int status, string message)
    {
        context.Items[RouteItem] = label;
        context.Response.Headers.CacheControl = "no-store";
        return Text(context, label, status, message);
    }

    private static IResult Text(HttpContext context, string label, int status, string message)
    {
        context.Items.TryAdd(RouteItem, label);
        return Results.Text(OutcomeResponses.OneLine(message), "text/plain; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>Counts requests by route and status and bytes served; refuses requests that looped back to this instance.</summary>
    public static IApplicationBuilder UseWarrenObservability(this IApplicationBuilder app)
    {
        var metrics = app.ApplicationServices.GetRequiredService<WarrenMetrics>();
        var identity = app.ApplicationServices.GetRequiredService<Upstream.InstanceIdentity>();
        var logger = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("Warren.Server.Requests");
        return app.Use(async (context, next) =>
        {
            if (context.Request.Headers.TryGetValue(Upstream.HttpDownloader.ViaHeader, out var via) && via.Contains(identity.Id))
            {
                Log.LoopDetected(logger, context.Request.Path.Value ?? "");
                context.Response.StatusCode = StatusCodes.Status508LoopDetected;
                await context.Response.WriteAsync("loop detected: this request came back to the Warren that sent it; fix the upstream list\n", context.RequestAborted);
                metrics.Request("loop", 508);
                return;
            }

            try
            {
                await next(context);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
            {
                Log.Unhandled(logger, context.Request.Path.Value ?? "", ex);
                if (!context.Response.HasStarted)
                {
                    context.Response.Clear();
                    context.Response.StatusCode = ex is IOException ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError;
                    context.Response.Headers.CacheControl = "no-store";
                    await context.Response.WriteAsync(ex is IOException
                        ? "store unavailable: " + Upstream.HttpDownloader.OneLine(ex) + "\n"
                        : "internal error (" + ex.GetType().Name + "); see the server log\n", context.RequestAborted);
                }
            }

            var route = context.Items.TryGetValue(RouteItem, out var r) ? (string)r! : "other";
            metrics.Request(route, context.Response.StatusCode);
            if (context.Response.ContentLength is { } length && !HttpMethods.IsHead(context.Request.Method))
            {
                metrics.BytesServed(route, length);
            }
        });
    }

    private sealed record ProxyServices(ModuleService Modules, SumDbProxy SumDb, DownloadModeAnswers Modes, IOptions<WarrenOptions> Options, Policy.PolicyGate Policy);
}

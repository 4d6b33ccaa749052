using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Net.Http.Headers;
using Warren.Core.Vulns;
using Warren.Protocol.VulnDb;
using Warren.Server.Auth;
using Warren.Server.Endpoints;

namespace Warren.Server.Vulns;

/// <summary>Registers the vulnerability database mirror and serves it under /vuln/.</summary>
public static partial class VulnDbServices
{
    /// <summary>The mirror (unless --vulndb off) as the <see cref="IAdvisoryCatalog"/>, replacing the empty one; it starts
    /// at start-up only when some component registered an <see cref="IAdvisoryRefreshObserver"/>, else on first use.</summary>
    public static IServiceCollection AddVulnDbMirror(this IServiceCollection services, WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton<VulnDbMetrics>();
        if (VulnDbSource.IsOff(options.VulnDb))
        {
            return services;
        }

        services.AddSingleton(sp => VulnDbSource.Create(sp.GetRequiredService<IOptions<WarrenOptions>>().Value, sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<TimeProvider>())!);
        services.AddSingleton(sp => new VulnDbMirror(sp.GetRequiredService<VulnDbSource>(), sp.GetRequiredService<IOptions<WarrenOptions>>(), sp,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<VulnDbMirror>>(),
            metrics: sp.GetRequiredService<VulnDbMetrics>()));
        services.Replace(ServiceDescriptor.Singleton<IAdvisoryCatalog>(sp => sp.GetRequiredService<VulnDbMirror>()));
        services.AddHostedService<VulnDbStarter>();
        return services;
    }

    /// <summary>GET/HEAD /vuln/PATH: the files of both layouts (see <see cref="VulnDbSnapshot"/>).</summary>
    public static IEndpointRouteBuilder MapVulnDb(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/vuln/{**path}", ["GET", "HEAD"], HandleAsync);
        return app;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9._~!+-]+(?:/[A-Za-z0-9._~!+-]+)*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex SafePath();

    private static async Task<IResult> HandleAsync(HttpContext context, string? path, IServiceProvider services)
    {
        var mirror = services.GetService<VulnDbMirror>();
        var result = await ServeAsync(context, path, mirror).ConfigureAwait(false);
        // Errors carry their status; a file is 200 (or 304, decided when it is written): both count as served.
        services.GetService<VulnDbMetrics>()?.Request((result as IStatusCodeHttpResult)?.StatusCode ?? 200, mirror?.IsStale == true);
        return result;
    }

    private static async Task<IResult> ServeAsync(HttpContext context, string? path, VulnDbMirror? mirror)
    {
        context.Items[ProxyEndpoints.RouteItem] = "vuln";
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (ProxyRequestParser.CheckRawTarget(raw) is { } rawError)
        {
            return Error(context, rawError.Status, rawError.Message);
        }

        if (mirror is null)
        {
            return Error(context, 404, "not found: this Warren does not mirror the vulnerability database (--vulndb off)");
        }

        path ??= "";
        if (path.Length is 0 or > 1100 || !SafePath().IsMatch(path))
        {
            return Error(context, 404, "not found: not a file of the vulnerability database");
        }

        var snapshot = await mirror.GetSnapshotAsync(context.RequestAborted).ConfigureAwait(false);
        if (snapshot is null)
        {
            context.Response.Headers.RetryAfter = "30";
            var why = mirror.Status.LastError is { } error ? Fetch.Direct.Git.SecretRedactor.RedactText(error) : "still loading";
            return Error(context, 503, "vulnerability database not available yet: " + why);
        }

        if (!snapshot.TryGetFile(path, out var body))
        {
            return Error(context, 404, "not found: the vulnerability database has no " + ProxyRequestParser.Printable(path));
        }

        context.Response.Headers.CacheControl = AccessControl.CacheControl(context, "public, max-age=300");
        var tag = new EntityTagHeaderValue("\"" + snapshot.Modified.UtcTicks.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "-" +
            snapshot.Entries.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"");
        return Results.Bytes(body, path.EndsWith(".gz", StringComparison.Ordinal) ? "application/gzip" : "application/json",
            lastModified: snapshot.Modified, entityTag: tag);
    }

    private static IResult Error(HttpContext context, int status, string message)
    {
        context.Response.Headers.CacheControl = "no-store";
        return Results.Text(OutcomeResponses.OneLine(message), "text/plain; charset=utf-8", System.Text.Encoding.UTF8, status);
    }
}

/// <summary>Starts the mirror at start-up when some component reacts to new advisories (it needs the refreshes even
/// when nobody asks for /vuln/), or when the policy denies vulnerable versions (the first downloads need the database).</summary>
internal sealed class VulnDbStarter(IServiceProvider services, VulnDbMirror mirror) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetServices<IAdvisoryRefreshObserver>().Any() || services.GetService<Policy.PolicyStore>()?.Current.DenyVulnerable == true)
        {
            mirror.EnsureStarted();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

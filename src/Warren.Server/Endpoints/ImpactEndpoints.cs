using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Warren.Core.Limits;
using Warren.Server.Impact;

namespace Warren.Server.Endpoints;

/// <summary>GET /admin/impact?since=90d: the <see cref="ServedImpactReport"/> as JSON. Admin tokens only (with an auth file).</summary>
public static class ImpactEndpoints
{
    public const string Path = "/admin/impact";

    public static IEndpointRouteBuilder MapImpact(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, async (HttpContext context, ImpactQuery query, IOptions<WarrenOptions> options, TimeProvider time) =>
        {
            context.Items[ProxyEndpoints.RouteItem] = "impact";
            context.Response.Headers.CacheControl = "no-store";
            var retention = options.Value.DownloadRetentionPeriod;
            var period = retention;
            if (context.Request.Query.TryGetValue("since", out var since) && !DurationText.TryParse(since.ToString(), out period, out var error))
            {
                return Results.Text("bad since: " + error + "\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
            }

            if (period > retention)
            {
                period = retention;
            }

            var first = DateOnly.FromDateTime((time.GetUtcNow() - period).UtcDateTime);
            var report = await query.ReportAsync(first, context.RequestAborted).ConfigureAwait(false);
            return Results.Json(report, ImpactQuery.Json, "application/json");
        });
        return app;
    }
}

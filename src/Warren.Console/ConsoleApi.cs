using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Warren.Server.Auth;
using Warren.WebConsole.Data;

namespace Warren.WebConsole;

/// <summary>The console's data as JSON, authorized like its pages: /api/overview, /api/modules?q=, /api/modules/{module}
/// and /api/modules/{module}/@v/{version}. A token (Bearer or Basic) or the console's session cookie; what the caller
/// may not read is 404. Errors are {"error": "one line"}.</summary>
public static class ConsoleApi
{
    public static IEndpointRouteBuilder MapConsoleApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("console");
        api.MapGet("/overview", async (HttpContext context, OverviewData data) =>
            Gate(context) ?? Results.Json(await data.GetAsync(ConsoleAccess.Viewer(context), context.RequestAborted)))
            .WithName("GetOverview").WithSummary("Store counts, the last hour's traffic, upstream health, sync, cluster and the last errors.");
        api.MapGet("/modules", async (HttpContext context, ModuleData data, string? q, string? after) =>
        {
            if (Gate(context) is { } refused)
            {
                return refused;
            }

            var (result, failure) = await data.SearchAsync(ConsoleAccess.Viewer(context), q, after, context.RequestAborted);
            return failure is not null ? Error(StatusCode(failure), failure.Reason) : Results.Json(result);
        }).WithName("SearchModules").WithSummary("Module paths containing q (a prefix or any part), in path order, that the caller may read.");
        api.MapGet("/modules/{**path}", async (HttpContext context, ModuleData data, string path) =>
        {
            if (Gate(context) is { } refused)
            {
                return refused;
            }

            var viewer = ConsoleAccess.Viewer(context);
            path = path.TrimEnd('/');
            var at = path.IndexOf("/@v/", StringComparison.Ordinal);
            if (at >= 0)
            {
                var (page, failure) = await data.VersionAsync(viewer, path[..at], path[(at + 4)..], context.RequestAborted);
                return failure is not null ? Error(StatusCode(failure), failure.Reason) : Results.Json(page);
            }

            var (module, moduleFailure) = await data.ModuleAsync(viewer, path, context.RequestAborted);
            return moduleFailure is not null ? Error(StatusCode(moduleFailure), moduleFailure.Reason) : Results.Json(module);
        }).WithName("GetModule").WithSummary("A module with its versions and their provenance, or (…/@v/VERSION) one version with its go.mod and file list.");
        return app;
    }

    /// <summary>401 when the caller may not see the public data (no credential while nothing is anonymous).</summary>
    internal static IResult? Gate(HttpContext context)
    {
        var viewer = ConsoleAccess.Viewer(context);
        if (viewer.MayBrowse)
        {
            return null;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"warren\"";
        return Error(StatusCodes.Status401Unauthorized, "unauthorized: no credential (a Warren token as Bearer, or the console's session cookie)");
    }

    /// <summary>The HTTP status of a lookup that is not a page: 400 for bad input, else 404.</summary>
    public static int StatusCode(LookupFailure failure) =>
        failure.BadInput ? StatusCodes.Status400BadRequest : StatusCodes.Status404NotFound;

    internal static IResult Error(int status, string reason) =>
        Results.Json(new ApiError(ConsoleServiceCollectionExtensions.Printable(reason)), statusCode: status);

    /// <summary>An API error: one line.</summary>
    public sealed record ApiError(string Error);
}

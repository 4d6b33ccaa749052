using System.Text;
using Microsoft.AspNetCore.Builder;
using Warren.Server.Endpoints;
using Warren.Server.SumDb;

namespace Warren.Server.Auth;

/// <summary>Lets a request for a module matching <see cref="WarrenOptions.AuthorizeByOrigin"/> (GOPROXY endpoints and
/// /sumdb/NAME/lookup/) through only when its Basic credential can read the module's origin repository; runs before any
/// endpoint, so a module already in the store is protected too. No credential: 401 with a Basic challenge; a credential
/// the origin refuses (or no such repository: never told apart): 403; the origin unreachable: 502, out of time: 504.
/// Allowed answers are marked Cache-Control: private. Requests for other paths pass untouched. Independent of token
/// authentication: it reads only <see cref="WarrenOptions.AuthorizeByOrigin"/>.</summary>
public sealed class OriginAuthorizationMiddleware
{
    /// <summary>The challenge of a 401: the go command then sends its .netrc entry for this host.</summary>
    public const string Challenge = "Basic realm=\"warren\"";

    private const string Anonymous = "-";

    private readonly OriginAuthorizer _authorizer;
    private readonly ILogger _logger;

    public OriginAuthorizationMiddleware(OriginAuthorizer authorizer, ILogger<OriginAuthorizationMiddleware> logger)
    {
        _authorizer = authorizer;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!TryTarget(context.Request.Path.Value ?? "/", out var module, out var version, out var artifact) ||
            _authorizer.MatchingPattern(module) is not { } pattern)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var display = version is null ? module : module + "@" + version;
        if (!TryBasic(context.Request.Headers.Authorization.ToString(), out var user, out var password, out var problem))
        {
            context.Response.Headers.WWWAuthenticate = Challenge;
            var message = $"unauthorized: modules matching \"{pattern}\" are served only with a Basic credential (your Git host user and password or token, e.g. from .netrc) that can read their origin repository{problem}";
            await RefuseAsync(context, Anonymous, display, artifact, StatusCodes.Status401Unauthorized, message, "no usable Basic credential" + problem).ConfigureAwait(false);
            return;
        }

        var principal = Printable(user);
        var decision = await _authorizer.AuthorizeAsync(module, user, password, context.RequestAborted).ConfigureAwait(false);
        switch (decision.Verdict)
        {
            case OriginVerdict.Allowed:
                break;
            case OriginVerdict.Denied:
                await RefuseAsync(context, principal, display, artifact, StatusCodes.Status403Forbidden,
                    $"forbidden: modules matching \"{pattern}\" are served only to credentials that can read their origin repository; the origin did not accept this one",
                    decision.Reason).ConfigureAwait(false);
                return;
            default:
                var timedOut = decision.Verdict == OriginVerdict.TimedOut;
                Log.OriginCheckFailed(_logger, principal, display, decision.Repository, decision.Reason);
                await RefuseAsync(context, principal, display, artifact, timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                    timedOut
                        ? "gateway timeout: the origin repository did not answer the access check in time; try again"
                        : "bad gateway: could not check the credential with the origin repository; try again",
                    decision.Reason).ConfigureAwait(false);
                return;
        }

        // Shared caches must not keep what only some credentials may read.
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpContext)state).Response.Headers;
            var current = headers.CacheControl.ToString();
            headers.CacheControl = current.Length == 0 ? "private"
                : current.Contains("public", StringComparison.OrdinalIgnoreCase) ? current.Replace("public", "private", StringComparison.OrdinalIgnoreCase)
                : current.Contains("no-store", StringComparison.OrdinalIgnoreCase) || current.Contains("private", StringComparison.OrdinalIgnoreCase) ? current
                : "private, " + current;
            return Task.CompletedTask;
        }, context);

        await next(context).ConfigureAwait(false);
        var status = context.Response.StatusCode;
        if (status < 400)
        {
            Log.OriginServed(_logger, principal, display, artifact, status);
        }
        else
        {
            Log.OriginDenied(_logger, principal, display, artifact, status, "the credential may read the origin; the request failed after authorization");
        }
    }

    /// <summary>Input echoed in a log line: control and non-ASCII characters escaped, at most 100 characters.</summary>
    internal static string Printable(string s)
    {
        var p = ProxyRequestParser.Printable(s);
        return p.Length > 100 ? p[..100] + "…" : p;
    }

    /// <summary>The module (and version, artifact label) a GOPROXY or sumdb lookup path names; false for anything else
    /// (bad paths are the endpoints' to refuse).</summary>
    internal static bool TryTarget(string path, out string module, out string? version, out string artifact)
    {
        module = "";
        version = null;
        artifact = "";
        var request = ProxyRequestParser.Parse(path, out _);
        if (request is null)
        {
            return false;
        }

        if (request.Route == ProxyRoute.SumDb)
        {
            var rest = request.SumDbRest ?? "";
            var lookup = rest.IndexOf("/lookup/", StringComparison.Ordinal);
            if (lookup <= 0 || SumDbProxy.ValidateLookup(rest[(lookup + "/lookup/".Length)..], out var lookupPath, out var lookupVersion) is not null)
            {
                return false;
            }

            (module, version, artifact) = (lookupPath, lookupVersion, "lookup");
            return true;
        }

        module = request.ModulePath;
        version = request.Version;
        artifact = request.Route switch
        {
            ProxyRoute.List => "list",
            ProxyRoute.Latest => "latest",
            ProxyRoute.Info => "info",
            ProxyRoute.Mod => "mod",
            ProxyRoute.Zip => "zip",
            _ => "query",
        };
        return true;
    }

    /// <summary>user and password of an "Authorization: Basic" value; problem is a short suffix for the 401 body.</summary>
    internal static bool TryBasic(string header, out string user, out string password, out string problem)
    {
        user = "";
        password = "";
        problem = "";
        if (header.Length == 0)
        {
            return false;
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            problem = " (only Basic authentication is accepted here)";
            return false;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            problem = " (the Basic value is not base64 of UTF-8 user:password)";
            return false;
        }
        catch (ArgumentException)
        {
            problem = " (the Basic value is not base64 of UTF-8 user:password)";
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || decoded.AsSpan().IndexOfAny('\n', '\r', '\0') >= 0)
        {
            problem = " (the Basic value is not user:password)";
            return false;
        }

        if (colon == decoded.Length - 1)
        {
            problem = " (the password is empty)";
            return false;
        }

        user = decoded[..colon];
        password = decoded[(colon + 1)..];
        return true;
    }

    private Task RefuseAsync(HttpContext context, string principal, string module, string artifact, int status, string message, string reason)
    {
        Log.OriginDenied(_logger, principal, module, artifact, status, reason);
        context.Items[ProxyEndpoints.RouteItem] = artifact;
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }
}

/// <summary>Registration of origin authorization.</summary>
public static class OriginAuthorizationExtensions
{
    /// <summary>Registers <see cref="OriginAuthorizer"/> (used only when <see cref="WarrenOptions.AuthorizeByOrigin"/> is set).</summary>
    public static IServiceCollection AddOriginAuthorization(this IServiceCollection services)
    {
        services.AddSingleton<OriginAuthorizer>();
        services.AddSingleton<OriginAuthorizationMiddleware>();
        return services;
    }

    /// <summary>Checks requests for modules matching <see cref="WarrenOptions.AuthorizeByOrigin"/> against their origin;
    /// goes right before the endpoints. With no patterns configured it passes every request on untouched.</summary>
    public static IApplicationBuilder UseOriginAuthorization(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;
        var options = services.GetRequiredService<IOptions<WarrenOptions>>();
        OriginAuthorizationMiddleware? middleware = null;
        return app.Use(async (context, next) =>
        {
            // Options are read on the first request (they are validated at start-up, not when the pipeline is built).
            if (string.IsNullOrWhiteSpace(options.Value.AuthorizeByOrigin))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            middleware ??= services.GetRequiredService<OriginAuthorizationMiddleware>();
            await middleware.InvokeAsync(context, next).ConfigureAwait(false);
        });
    }
}

using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Warren.Server.Endpoints;
using Warren.Server.SumDb;

namespace Warren.Server.Auth;

/// <summary>Client access control: registration, the admin listener, and what the endpoints need to know.</summary>
public static class AccessControl
{
    /// <summary>HttpContext.Items key: the name of the principal the request was made as, or <see cref="AuthFile.AnonymousName"/>.</summary>
    public const string PrincipalItem = "warren.principal";

    /// <summary>HttpContext.Items key: the authenticated <see cref="AuthPrincipal"/> (absent for anonymous requests and without an auth file).</summary>
    public const string AuthPrincipalItem = "warren.auth-principal";

    /// <summary>HttpContext.Items key, present when the answer must not be kept by shared caches.</summary>
    public const string PrivateItem = "warren.private";

    /// <summary>The log category of denied requests and private artifacts served (filter it with Logging:LogLevel).</summary>
    public const string AccessLogCategory = "Warren.Server.Access";

    /// <summary>HttpContext.Items key: the <see cref="ProxyRequest"/> already parsed, reused by the endpoint.</summary>
    internal const string RequestItem = "warren.request";

    /// <summary>HttpContext item: a Func&lt;string, bool&gt; telling which module paths the request's principal may read
    /// (set for listings such as /index, which filter what they show).</summary>
    public const string ReadableItem = "warren.readable";

    /// <summary>ConnectionContext.Items key of connections accepted on the admin listener.</summary>
    internal const string AdminConnectionItem = "warren.admin";

    public static IServiceCollection AddWarrenAccessControl(this IServiceCollection services)
    {
        services.AddSingleton<AuthStore>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WarrenOptions>>().Value;
            return new RateLimitHolder(RateLimitApplies(o)
                ? new PrincipalRateLimiter(o.RateLimit, o.RateLimitBurst, sp.GetRequiredService<TimeProvider>())
                : null);
        });
        return services;
    }

    /// <summary>Adds the access-control middleware (authentication, rate limit, authorization by grants). Register it
    /// before the endpoints; /healthz and /readyz bypass it. Warns when Warren is reachable from other hosts without an auth file.</summary>
    public static IApplicationBuilder UseWarrenAccessControl(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;

        // At start, once the options were validated (not while the application is built).
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
        {
            var options = services.GetRequiredService<IOptions<WarrenOptions>>().Value;
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Warren.Server.Auth");
            WarnIfOpen(options, logger);
            if (!string.IsNullOrEmpty(options.AdminListen))
            {
                Log.AdminListener(logger, options.AdminListen);
            }
        });
        return app.UseMiddleware<AccessControlMiddleware>();
    }

    /// <summary>Warns when Warren listens beyond loopback without an auth file.</summary>
    public static void WarnIfOpen(WarrenOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.AuthFile) && !IsLoopbackOnly(options.Listen))
        {
            Log.OpenWithoutAuth(logger, options.Listen);
        }
    }

    /// <summary>Adds the admin listener (HOST:PORT) to Kestrel: its connections are marked, and serve /metrics only.</summary>
    public static void ListenAdmin(KestrelServerOptions kestrel, string adminListen)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        if (!ListenAddress.TryParse(adminListen, out var address, out _))
        {
            return;
        }

        static void Mark(ListenOptions listen) => listen.Use(next => connection =>
        {
            connection.Items[AdminConnectionItem] = true;
            return next(connection);
        });

        if (address!.Address is { } ip)
        {
            kestrel.Listen(ip, address.Port, Mark);
        }
        else
        {
            kestrel.ListenLocalhost(address.Port, Mark);
        }
    }

    /// <summary>The rate limit is on when it is positive and Warren is shared: it has an auth file or listens beyond
    /// loopback. A personal Warren on 127.0.0.1 without an auth file is not limited (as before).</summary>
    public static bool RateLimitApplies(WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.RateLimit > 0 && (!string.IsNullOrEmpty(options.AuthFile) || !IsLoopbackOnly(options.Listen));
    }

    /// <summary>The Cache-Control value for an answer: "private" instead of "public" when the request was marked private.</summary>
    internal static string CacheControl(HttpContext context, string publicValue) =>
        context.Items.ContainsKey(PrivateItem) && publicValue.StartsWith("public", StringComparison.Ordinal)
            ? string.Concat("private", publicValue.AsSpan("public".Length))
            : publicValue;

    internal static bool IsLoopbackOnly(string listen) =>
        ListenAddress.TryParse(listen, out var address, out _) &&
        (address!.Address is null || System.Net.IPAddress.IsLoopback(address.Address));
}

/// <summary>The rate limiter, or null when it is off.</summary>
internal sealed record RateLimitHolder(PrincipalRateLimiter? Limiter) : IDisposable
{
    public void Dispose() => Limiter?.Dispose();
}

/// <summary>Authenticates the request (Basic with the token as password, or Bearer), applies the rate limit, and
/// authorizes it by the module path it names: anonymous patterns, then the principal's grants. Module paths under
/// --authorize-by-origin are left to the origin-authorization middleware that follows.</summary>
internal sealed class AccessControlMiddleware
{
    private const string Challenge = "Basic realm=\"warren\"";
    private const string DeniedRoute = "denied";

    private readonly RequestDelegate _next;
    private readonly AuthStore _store;
    private readonly PrincipalRateLimiter? _limiter;
    private readonly ILogger _logger;
    private readonly GlobList _anonymous;
    private readonly GlobList _private;
    private readonly GlobList _byOrigin;
    private readonly bool _adminListener;
    private readonly AccessLogCoalescer _coalescer;
    private readonly IConsoleSessions? _sessions;
    private readonly ConsoleData.AuditTrail? _trail;

    public AccessControlMiddleware(RequestDelegate next, AuthStore store, RateLimitHolder limiter, IOptions<WarrenOptions> options, ILoggerFactory loggers,
        TimeProvider time, IEnumerable<IConsoleSessions>? sessions = null, ConsoleData.AuditTrail? trail = null)
    {
        _sessions = sessions?.FirstOrDefault();
        _trail = trail;
        _coalescer = new AccessLogCoalescer(time, options.Value.AccessLogWindow);
        _next = next;
        _store = store;
        _limiter = limiter.Limiter;
        _logger = loggers.CreateLogger(AccessControl.AccessLogCategory);
        var o = options.Value;
        _anonymous = GlobList.Parse(o.Anonymous);
        _private = GlobList.Parse(o.Private);
        _byOrigin = GlobList.Parse(o.AuthorizeByOrigin);
        _adminListener = !string.IsNullOrEmpty(o.AdminListen);
    }

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path is "/healthz" or "/readyz")
        {
            return _next(context);
        }

        if (_adminListener && context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(AccessControl.AdminConnectionItem) == true)
        {
            return path == "/metrics"
                ? _next(context)
                : Refuse(context, StatusCodes.Status404NotFound, "not found: the admin listener serves only /metrics");
        }

        return _store.Enabled ? AuthorizeAsync(context, path) : OpenAsync(context, path);
    }

    /// <summary>No auth file: everything is readable; only the private marking and (when Warren is shared) the rate limit apply.</summary>
    private async Task OpenAsync(HttpContext context, string path)
    {
        if (_limiter is not null && !TryAcquire(context, PrincipalRateLimiter.PartitionOf(context.Connection.RemoteIpAddress)))
        {
            await RateLimitedAsync(context, AuthFile.AnonymousName, Target.Of(context, path)).ConfigureAwait(false);
            return;
        }

        if (!_private.IsEmpty && Target.Of(context, path) is { Module: { } module } target && _private.Matches(module))
        {
            await ServePrivateAsync(context, AuthFile.AnonymousName, target).ConfigureAwait(false);
            return;
        }

        // Everything is readable, except what only the origin's own permissions open.
        context.Items[AccessControl.ReadableItem] = (Func<string, bool>)(m => !_byOrigin.Matches(m));
        await _next(context).ConfigureAwait(false);
    }

    private async Task AuthorizeAsync(HttpContext context, string path)
    {
        var target = Target.Of(context, path);
        var credential = ReadCredential(context.Request, out var token);
        AuthResult auth = default;
        if (credential == Credential.Token)
        {
            auth = await _store.AuthenticateAsync(token!, context.RequestAborted).ConfigureAwait(false);
        }
        else if (credential == Credential.None && target.Artifact == ConsoleAccess.Artifact && _sessions is not null &&
            await _sessions.TokenOfAsync(context).ConfigureAwait(false) is { } sessionToken)
        {
            // The console's session cookie stands for the token it was opened with; a revoked or expired token ends it.
            auth = await _store.AuthenticateAsync(sessionToken, context.RequestAborted).ConfigureAwait(false);
            if (auth.Status != AuthStatus.Valid)
            {
                await _sessions.EndAsync(context).ConfigureAwait(false);
                auth = default;
            }
        }

        var principal = auth.Status == AuthStatus.Valid ? auth.Principal : null;
        var name = principal?.Name ?? AuthFile.AnonymousName;
        context.Items[AccessControl.PrincipalItem] = name;
        if (principal is not null)
        {
            context.Items[AccessControl.AuthPrincipalItem] = principal;
        }

        var logName = auth.Principal?.Name ?? name;
        if (_limiter is not null && !TryAcquire(context, principal?.PartitionKey ?? PrincipalRateLimiter.PartitionOf(context.Connection.RemoteIpAddress)))
        {
            await RateLimitedAsync(context, name, target).ConfigureAwait(false);
            return;
        }

        // Origin-authorized paths: the client's Basic password is an origin credential, checked by the next middleware.
        if (target.Module is { } originModule && _byOrigin.Matches(originModule))
        {
            await ServePrivateAsync(context, name, target).ConfigureAwait(false);
            return;
        }

        if (credential == Credential.Malformed)
        {
            await DenyAsync(context, name, target, 401, "unauthorized: malformed Authorization header (want Basic with the token as password, or Bearer TOKEN)").ConfigureAwait(false);
            return;
        }

        if (credential == Credential.Token && principal is null)
        {
            await DenyAsync(context, logName, target, 401, auth.Status == AuthStatus.Expired
                ? "unauthorized: token expired on " + auth.Principal!.Expires!.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)
                : "unauthorized: unknown or revoked token").ConfigureAwait(false);
            return;
        }

        if (target.Artifact == ConsoleAccess.Artifact)
        {
            // Pages decide for themselves (sign-in page, 404 for what the viewer may not read); the JSON API needs a
            // principal unless something is anonymous, like every other path that names no module.
            if (principal is null && _anonymous.IsEmpty && !path.StartsWith("/ui", StringComparison.Ordinal))
            {
                await DenyAsync(context, name, target, 401, "unauthorized: no credential (a Warren token as Bearer, or the console's session cookie)").ConfigureAwait(false);
                return;
            }

            var readable = ConsoleViewer.ReadRule(true, _anonymous, _byOrigin, principal);
            context.Items[ConsoleAccess.ViewerItem] = new ConsoleViewer(name, principal, true, !_anonymous.IsEmpty, readable);
            context.Items[AccessControl.ReadableItem] = readable;
            await _next(context).ConfigureAwait(false);
            return;
        }

        if (target.Artifact is "metrics" or "sumdb-data" or "admin")
        {
            // Data tiles hold the logged records, module paths and all: only auditors (admins) may read every record.
            // The /admin/ reports (who downloaded what) likewise.
            var what = target.Artifact switch
            {
                "metrics" => "/metrics",
                "admin" => ProxyRequestParser.Printable(path),
                _ => "a checksum database data tile (it lists every logged module)",
            };
            if (principal is null)
            {
                await DenyAsync(context, name, target, 401, $"unauthorized: no credential; {what} needs an admin token").ConfigureAwait(false);
            }
            else if (!principal.Admin)
            {
                await DenyAsync(context, name, target, 403, $"forbidden: token \"{principal.Name}\" is not an admin token; {what} needs one").ConfigureAwait(false);
            }
            else
            {
                await _next(context).ConfigureAwait(false);
            }

            return;
        }

        if (target.Module is not { } module)
        {
            // No module path (sumdb supported/latest/tiles, malformed paths): any principal, or anyone when something is anonymous.
            if (principal is null && _anonymous.IsEmpty)
            {
                await DenyAsync(context, name, target, 401, "unauthorized: no credential (send a Warren token as the Basic password or as Bearer)").ConfigureAwait(false);
                return;
            }

            // A listing shows what this principal may read: the anonymous patterns and its grants.
            context.Items[AccessControl.ReadableItem] = (Func<string, bool>)(m =>
                !_byOrigin.Matches(m) && (_anonymous.Matches(m) || principal?.Grants.Matches(m) == true));
            await _next(context).ConfigureAwait(false);
            return;
        }

        if (_anonymous.Matches(module))
        {
            if (_private.Matches(module))
            {
                await ServePrivateAsync(context, name, target).ConfigureAwait(false);
            }
            else
            {
                await _next(context).ConfigureAwait(false);
            }

            return;
        }

        if (principal is null)
        {
            await DenyAsync(context, name, target, 401, $"unauthorized: no credential; {ProxyRequestParser.Printable(module)} needs a token with a grant for it").ConfigureAwait(false);
            return;
        }

        if (!principal.Grants.Matches(module))
        {
            await DenyAsync(context, name, target, 403,
                $"forbidden: token \"{principal.Name}\" has no grant matching {ProxyRequestParser.Printable(module)} (its grants: {(principal.Grants.IsEmpty ? "none" : string.Join(',', principal.Grants.Patterns))})").ConfigureAwait(false);
            return;
        }

        await ServePrivateAsync(context, name, target).ConfigureAwait(false);
    }

    private async Task ServePrivateAsync(HttpContext context, string principal, Target target)
    {
        context.Items[AccessControl.PrivateItem] = true;
        await _next(context).ConfigureAwait(false);
        var status = context.Response.StatusCode;
        if (status < 400 && _coalescer.ShouldLog(principal, target.Module, target.Version, target.Artifact, status, out var repeats))
        {
            Log.PrivateServed(_logger, principal, target.Describe(), target.Artifact, status, repeats);
            _trail?.Add(ConsoleData.AuditKinds.Access, principal, "served-private", target.Module, target.Version, status, target.Artifact, repeats);
        }
    }

    private bool TryAcquire(HttpContext context, string partition)
    {
        if (_limiter!.TryAcquire(partition, out var retryAfter))
        {
            return true;
        }

        context.Items["warren.retry-after"] = retryAfter;
        Log.RateLimited(_logger, partition, retryAfter);
        return false;
    }

    private Task RateLimitedAsync(HttpContext context, string principal, Target target)
    {
        var retryAfter = context.Items.TryGetValue("warren.retry-after", out var r) ? (long)r! : 1;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        LogDenied(principal, target, 429, "rate limit");
        return Refuse(context, StatusCodes.Status429TooManyRequests,
            $"too many requests: {(principal == AuthFile.AnonymousName ? "this address" : "token \"" + principal + "\"")} is over the rate limit; retry after {retryAfter} s");
    }

    private void LogDenied(string principal, Target target, int status, string reason)
    {
        if (_coalescer.ShouldLog(principal, target.Module, target.Version, target.Artifact, status, out var repeats))
        {
            Log.AccessDenied(_logger, principal, target.Describe(), target.Artifact, status, reason, repeats);
            _trail?.Add(ConsoleData.AuditKinds.Access, principal, "denied", target.Module, target.Version, status, reason, repeats);
        }
    }

    private Task DenyAsync(HttpContext context, string principal, Target target, int status, string message)
    {
        LogDenied(principal, target, status, message);
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = Challenge;
        }

        return Refuse(context, status, message);
    }

    private static Task Refuse(HttpContext context, int status, string message)
    {
        context.Items[ProxyEndpoints.RouteItem] = DeniedRoute;
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message.Replace('\n', ' ') + "\n", context.RequestAborted);
    }

    private enum Credential
    {
        None,
        Token,
        Malformed,
    }

    /// <summary>Basic (any user, the token as password) or Bearer.</summary>
    private static Credential ReadCredential(HttpRequest request, out string? token)
    {
        token = null;
        var header = request.Headers.Authorization;
        if (header.Count == 0)
        {
            return Credential.None;
        }

        var value = header.ToString().Trim();
        if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = value["Bearer ".Length..].Trim();
            return token.Length > 0 ? Credential.Token : Credential.Malformed;
        }

        if (value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var encoded = value.AsSpan("Basic ".Length).Trim();
            if (encoded.Length > 4096)
            {
                return Credential.Malformed;
            }

            Span<byte> bytes = stackalloc byte[Base64.GetMaxDecodedFromUtf8Length(encoded.Length)];
            if (!Convert.TryFromBase64Chars(encoded, bytes, out var n))
            {
                return Credential.Malformed;
            }

            var decoded = Encoding.UTF8.GetString(bytes[..n]);
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || colon == decoded.Length - 1)
            {
                return Credential.Malformed;
            }

            token = decoded[(colon + 1)..];
            return Credential.Token;
        }

        return Credential.Malformed;
    }

    /// <summary>What a request asks for: the module path (and version) when it names one, and an artifact label.</summary>
    private readonly record struct Target(string? Module, string? Version, string Artifact)
    {
        /// <summary>Parses the path once; the endpoint reuses the parsed request.</summary>
        public static Target Of(HttpContext context, string path)
        {
            if (path == "/metrics")
            {
                return new Target(null, null, "metrics");
            }

            if (path.StartsWith("/admin/", StringComparison.Ordinal) || path.StartsWith(Endpoints.ConsoleApiEndpoints.AdminPrefix, StringComparison.Ordinal))
            {
                return new Target(null, null, "admin");
            }

            // The web console's pages and APIs name no module of the proxy protocol.
            if (ConsoleAccess.IsConsolePath(path))
            {
                return new Target(null, null, ConsoleAccess.Artifact);
            }

            // The OpenAPI document names no module: any principal (anyone when something is anonymous).
            if (path.StartsWith(Endpoints.ConsoleApiEndpoints.OpenApiPrefix, StringComparison.Ordinal))
            {
                return new Target(null, null, "api");
            }

            // The vulnerability database names no module of the store: like the checksum database's tree and tiles.
            if (path.StartsWith("/vuln/", StringComparison.Ordinal))
            {
                return new Target(null, null, "vuln");
            }

            var request = ProxyRequestParser.Parse(path, out _);
            if (request is null)
            {
                return new Target(null, null, "other");
            }

            context.Items[AccessControl.RequestItem] = request;
            if (request.Route != ProxyRoute.SumDb)
            {
                return new Target(request.ModulePath, request.Version, request.Route.ToString().ToLowerInvariant());
            }

            // NAME/lookup/MODULE@VERSION names a module; supported, latest and tiles do not.
            var rest = request.SumDbRest!;
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && rest.AsSpan(slash + 1).StartsWith("lookup/", StringComparison.Ordinal) &&
                SumDbProxy.ValidateLookup(rest[(slash + 1 + "lookup/".Length)..], out var module, out var version) is null)
            {
                return new Target(module, version, "sumdb-lookup");
            }

            // NAME/tile/H/data/N: the records themselves (module paths included); the go command reads only hash tiles.
            if (slash > 0 && rest.AsSpan(slash + 1).StartsWith("tile/", StringComparison.Ordinal) && rest.Contains("/data/", StringComparison.Ordinal))
            {
                return new Target(null, null, "sumdb-data");
            }

            return new Target(null, null, "sumdb");
        }

        public string Describe() => Module is null ? "-" : Version is null ? ProxyRequestParser.Printable(Module) : ProxyRequestParser.Printable(Module + "@" + Version);
    }
}

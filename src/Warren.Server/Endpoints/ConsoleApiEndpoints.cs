using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Warren.Core.Limits;
using Warren.Server.Auth;
using Warren.Server.ConsoleData;

namespace Warren.Server.Endpoints;

/// <summary>The console's JSON API under /api/ and its OpenAPI document at /openapi/v1.json. Access control has
/// authenticated the request already (Target.Of classifies these paths as no module's): /api/admin/ needs an admin
/// token (401 without a credential, 403 with another), the rest any valid token (anyone when some patterns are
/// anonymous), and what a caller sees is filtered by its grants (admins see everything). Mutating endpoints take the
/// token from the Authorization header only, so a browser cannot be made to call them cross-site with a cookie.
/// Bad parameters get a 400 with one line.</summary>
public static class ConsoleApiEndpoints
{
    public const string Prefix = "/api/";

    public const string AdminPrefix = "/api/admin/";

    public const string OpenApiPrefix = "/openapi/";

    /// <summary>The OpenAPI document's name: /openapi/v1.json.</summary>
    public const string DocumentName = "v1";

    /// <summary>The metrics' route label of every console API request.</summary>
    public const string RouteLabel = "console-api";

    /// <summary>The largest request body read (a token creation).</summary>
    public const int MaxBodyBytes = 16 * 1024;

    private const string TextType = "text/plain; charset=utf-8";
    private const int MaxFilterLength = 512;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapWarrenConsoleApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi("/openapi/{documentName}.json");

        var api = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            http.Items[ProxyEndpoints.RouteItem] = RouteLabel;
            http.Response.Headers.CacheControl = "no-store";
            var admin = http.Request.Path.StartsWithSegments(AdminPrefix.TrimEnd('/'), StringComparison.Ordinal);
            if (http.RequestServices.GetRequiredService<ConsoleAccessRules>().Refusal(http, admin) is { } refusal)
            {
                if (refusal.NoCredential)
                {
                    http.Response.Headers.WWWAuthenticate = "Basic realm=\"warren\"";
                }

                return Bad(refusal.Reason, refusal.NoCredential ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden);
            }

            return await next(context).ConfigureAwait(false);
        });

        api.MapGet("/advisories", AdvisoriesAsync).WithTags("Advisories").WithName("GetAdvisories")
            .WithSummary("Advisories affecting versions held in the store or downloaded since ?since= (a duration such as 90d; default: the download retention).")
            .Produces<ConsoleAdvisories>().Produces(StatusCodes.Status400BadRequest, contentType: TextType);

        api.MapGet("/policy", (HttpContext context, ConsolePolicyView view) => Results.Json(view.Current(Readable(context)), Json))
            .WithTags("Policy").WithName("GetPolicy").WithSummary("The policy in force and the last denials.")
            .Produces<ConsolePolicy>();

        api.MapGet("/sync", async (HttpContext context, ConsoleSyncView view, ConsoleAccessRules rules) =>
                Results.Json(await view.CurrentAsync(Readable(context), rules.SeesOperations(context), context.RequestAborted).ConfigureAwait(false), Json))
            .WithTags("Sync").WithName("GetSync").WithSummary("The feeds followed and the last bundles imported.")
            .Produces<ConsoleSync>();

        var admin = api.MapGroup("/admin").WithTags("Admin");
        admin.MapGet("/tokens", (ConsoleTokenAdmin tokens) => Results.Json(tokens.List(), Json))
            .WithName("ListTokens").WithSummary("The principals of the auth file (never tokens or hashes).")
            .Produces<ConsoleTokens>();
        admin.MapPost("/tokens", CreateTokenAsync)
            .WithName("CreateToken").WithSummary("Create a principal; the answer holds its token, shown this once. Authorization header required.")
            .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            {
                // The body is read by the handler (so that a bad one gets a one-line 400, and another media type a
                // one-line 415, rather than the framework's empty answers); described here.
                var schema = await context.GetOrCreateSchemaAsync(typeof(TokenCreateRequest), null, cancellationToken).ConfigureAwait(false);
                operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
                };
            })
            .Produces<ConsoleTokenCreated>(StatusCodes.Status201Created)
            .Produces(StatusCodes.Status400BadRequest, contentType: TextType).Produces(StatusCodes.Status409Conflict, contentType: TextType);
        admin.MapDelete("/tokens/{name}", (HttpContext context, string name, ConsoleTokenAdmin tokens) => Revoke(context, name, tokens))
            .WithName("RevokeToken").WithSummary("Revoke a principal: its token is refused from the next request on. Authorization header required.")
            .Produces(StatusCodes.Status204NoContent).Produces(StatusCodes.Status404NotFound, contentType: TextType);
        admin.MapPost("/tokens/{name}/revoke", (HttpContext context, string name, ConsoleTokenAdmin tokens) => Revoke(context, name, tokens))
            .WithName("RevokeTokenByPost").WithSummary("The same as DELETE /api/admin/tokens/{name}, for clients that only POST.")
            .Produces(StatusCodes.Status204NoContent).Produces(StatusCodes.Status404NotFound, contentType: TextType);
        admin.MapGet("/audit", Audit)
            .WithName("GetAudit").WithSummary("Recent audit events, newest first: ?principal=NAME&module=PATH&kind=access|policy|token&since=1h|ISO-TIME&limit=N.")
            .Produces<ConsoleAudit>().Produces(StatusCodes.Status400BadRequest, contentType: TextType);
        admin.MapGet("/config", (ConsoleConfigView config) => Results.Json(config.Current(), Json))
            .WithName("GetConfig").WithSummary("The options in effect, every secret redacted.")
            .Produces<ConsoleConfig>();
        return app;
    }

    /// <summary>Which module paths the caller may read: every one for an admin, else its grants and the anonymous patterns.</summary>
    public static Func<string, bool> Readable(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.RequestServices.GetRequiredService<ConsoleAccessRules>().Readable(context);
    }

    private static string Actor(HttpContext context) =>
        context.Items.TryGetValue(AccessControl.PrincipalItem, out var p) && p is string name ? name : AuthFile.AnonymousName;

    /// <summary>The HTTP status of a token change that was not made (the console's token pages answer with it too).</summary>
    public static int StatusCode(TokenAdminProblemKind kind) => kind switch
    {
        TokenAdminProblemKind.Invalid => StatusCodes.Status400BadRequest,
        TokenAdminProblemKind.NotFound => StatusCodes.Status404NotFound,
        TokenAdminProblemKind.AccessControlOff or TokenAdminProblemKind.Conflict => StatusCodes.Status409Conflict,
        TokenAdminProblemKind.Failed => StatusCodes.Status500InternalServerError,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown token problem"),
    };

    private static IResult Bad(string reason, int status = StatusCodes.Status400BadRequest) =>
        Results.Text(reason.ReplaceLineEndings(" ") + "\n", TextType, statusCode: status);

    private static async Task<IResult> AdvisoriesAsync(HttpContext context, ConsoleAdvisoryQuery query, IOptions<WarrenOptions> options, TimeProvider time)
    {
        var retention = options.Value.DownloadRetentionPeriod;
        var period = retention;
        if (context.Request.Query.TryGetValue("since", out var since) && (since.Count != 1 || !DurationText.TryParse(since.ToString(), out period, out _)))
        {
            return Bad("bad since: want one duration such as 90d, 12h or 2w");
        }

        if (period > retention)
        {
            period = retention;
        }

        var first = DateOnly.FromDateTime((time.GetUtcNow() - period).UtcDateTime);
        return Results.Json(await query.ReportAsync(first, Readable(context), context.RequestAborted).ConfigureAwait(false), Json);
    }

    /// <summary>Refuses a change whose credential did not come in the Authorization header (a cookie can be sent
    /// cross-site by a browser; that header cannot).</summary>
    private static IResult? RequireHeaderCredential(HttpContext context) =>
        context.Request.Headers.Authorization.Count == 0
            ? Bad("forbidden: changes need the token in the Authorization header (Bearer TOKEN)", StatusCodes.Status403Forbidden)
            : null;

    private static async Task<IResult> CreateTokenAsync(HttpContext context, ConsoleTokenAdmin tokens)
    {
        if (RequireHeaderCredential(context) is { } refused)
        {
            return refused;
        }

        if (!(context.Request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Bad("unsupported media type: send the request as application/json", StatusCodes.Status415UnsupportedMediaType);
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return Bad($"request body over {MaxBodyBytes} bytes", StatusCodes.Status413PayloadTooLarge);
        }

        var body = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < body.Length && (read = await context.Request.Body.ReadAsync(body.AsMemory(length), context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        if (length > MaxBodyBytes)
        {
            return Bad($"request body over {MaxBodyBytes} bytes", StatusCodes.Status413PayloadTooLarge);
        }

        TokenCreateRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<TokenCreateRequest>(body.AsSpan(0, length), Json);
        }
        catch (JsonException e)
        {
            return Bad("bad request body: not the JSON of a token request" + (e.LineNumber is { } line ? $" (line {line + 1})" : ""));
        }

        if (request is null)
        {
            return Bad("bad request body: want {\"name\":…,\"grants\":[…],\"admin\":false,\"expires\":\"90d\"}");
        }

        var (created, problem) = tokens.Create(request, Actor(context));
        return problem is not null
            ? Bad(problem.Reason, StatusCode(problem.Kind))
            : Results.Json(created, Json, statusCode: StatusCodes.Status201Created);
    }

    private static IResult Revoke(HttpContext context, string name, ConsoleTokenAdmin tokens)
    {
        if (RequireHeaderCredential(context) is { } refused)
        {
            return refused;
        }

        return tokens.Revoke(name, Actor(context)) is { } problem ? Bad(problem.Reason, StatusCode(problem.Kind)) : Results.NoContent();
    }

    private static IResult Audit(HttpContext context, AuditTrail trail, TimeProvider time)
    {
        var query = context.Request.Query;
        foreach (var key in query.Keys)
        {
            if (key is not ("principal" or "module" or "kind" or "since" or "limit"))
            {
                return Bad($"unknown parameter \"{ProxyRequestParser.Printable(key)}\": want principal, module, kind, since, limit");
            }

            if (query[key].Count != 1 || query[key].ToString().Length > MaxFilterLength || query[key].ToString().Any(char.IsControl))
            {
                return Bad($"bad {key}: want one printable value of at most {MaxFilterLength} characters");
            }
        }

        string? Value(string key) => query.TryGetValue(key, out var v) && v.ToString().Length > 0 ? v.ToString() : null;
        var kind = Value("kind");
        if (kind is not null && !AuditKinds.All.Contains(kind))
        {
            return Bad($"bad kind \"{ProxyRequestParser.Printable(kind)}\": want {string.Join(", ", AuditKinds.All)}");
        }

        DateTimeOffset? since = null;
        if (Value("since") is { } sinceText)
        {
            if (DurationText.TryParse(sinceText, out var period, out _))
            {
                since = time.GetUtcNow() - period;
            }
            else if (DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                since = at;
            }
            else
            {
                return Bad("bad since: want a duration such as 1h or 7d, or a time such as 2026-12-01T00:00:00Z");
            }
        }

        var limit = 200;
        if (Value("limit") is { } limitText && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > AuditTrail.Capacity))
        {
            return Bad($"bad limit: want a number from 1 to {AuditTrail.Capacity}");
        }

        var events = trail.Query(new AuditFilter(Value("principal"), Value("module")?.TrimEnd('/'), kind, since, limit));
        return Results.Json(new ConsoleAudit(AuditTrail.Capacity, events), Json);
    }
}

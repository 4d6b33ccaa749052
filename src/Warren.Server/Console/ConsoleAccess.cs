using Warren.Server.Auth;

namespace Warren.Server.ConsoleData;

/// <summary>Who may see what through the console's data: the same rules as access control (anonymous patterns, the
/// principal's grants, paths left to the origin's permissions), decided again at the endpoint so that the API stays
/// closed whichever way the middleware classified its paths.</summary>
public sealed class ConsoleAccessRules(AuthStore store, IOptions<WarrenOptions> options)
{
    private readonly GlobList _anonymous = GlobList.Parse(options.Value.Anonymous);
    private readonly GlobList _byOrigin = GlobList.Parse(options.Value.AuthorizeByOrigin);

    /// <summary>Whether access control is on (an auth file is configured).</summary>
    public bool Enabled => store.Enabled;

    /// <summary>Whether anyone may read something without a token.</summary>
    public bool AnyAnonymous => !_anonymous.IsEmpty;

    /// <summary>The authenticated principal of the request, or null.</summary>
    public static AuthPrincipal? PrincipalOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(AccessControl.AuthPrincipalItem, out var p) ? p as AuthPrincipal : null;
    }

    /// <summary>Which module paths the request's principal may read: <see cref="ConsoleViewer.ReadRule"/>.</summary>
    public Func<string, bool> Readable(HttpContext context) => ConsoleViewer.ReadRule(store.Enabled, _anonymous, _byOrigin, PrincipalOf(context));

    /// <summary>Whether the request sees operations detail (names of upstreams, feeds and nodes, paths on the server,
    /// raw errors): without access control everyone does, with it only admins, as /readyz shows upstreams only to
    /// operators. Others see the same health and numbers with those names left out.</summary>
    public bool SeesOperations(HttpContext context) => !store.Enabled || PrincipalOf(context) is { Admin: true };

    /// <summary>null when the request may read the console's data, else why not: no credential (the endpoints answer
    /// 401) or a credential without the admin flag (403), with a one-line reason.</summary>
    public (bool NoCredential, string Reason)? Refusal(HttpContext context, bool admin)
    {
        if (!store.Enabled)
        {
            return null;
        }

        var principal = PrincipalOf(context);
        if (principal is null && (admin || _anonymous.IsEmpty))
        {
            return (true, admin
                ? "unauthorized: no credential; this needs an admin token"
                : "unauthorized: no credential (send a Warren token as Bearer)");
        }

        return admin && principal is { Admin: false }
            ? (false, $"forbidden: token \"{principal.Name}\" is not an admin token; this needs one")
            : null;
    }
}

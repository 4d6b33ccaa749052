namespace Warren.Server.Auth;

/// <summary>The sessions of the web console, as the access control sees them: a cookie naming a session kept in the
/// index that holds the token it was opened with. Implemented by the console; absent when the console is not mounted.</summary>
public interface IConsoleSessions
{
    /// <summary>The token of the live session the request's cookie names, or null (no cookie, unknown, ended or expired).</summary>
    Task<string?> TokenOfAsync(HttpContext context);

    /// <summary>Ends the session the request's cookie names: its token is no longer valid (revoked or expired).</summary>
    Task EndAsync(HttpContext context);
}

/// <summary>Who is looking at a console page or calling a console API (/ui/, /api/), as the access control resolved
/// it: the principal of the Authorization header, else of the session cookie, else anonymous.</summary>
public sealed class ConsoleViewer(string name, AuthPrincipal? principal, bool accessControl, bool anonymousReadable, Func<string, bool> canRead)
{
    /// <summary>The principal's name, or <see cref="AuthFile.AnonymousName"/>.</summary>
    public string Name { get; } = name;

    /// <summary>The authenticated principal, or null.</summary>
    public AuthPrincipal? Principal { get; } = principal;

    /// <summary>Whether access control is on (an auth file is configured). Off: everyone reads everything and is admin,
    /// as with the /admin/ reports.</summary>
    public bool AccessControl { get; } = accessControl;

    public bool SignedIn => Principal is not null;

    /// <summary>Admin pages and APIs: an admin token, or no access control at all.</summary>
    public bool IsAdmin => !AccessControl || Principal?.Admin == true;

    /// <summary>Whether the public pages may be shown: signed in, no access control, or something is --anonymous.</summary>
    public bool MayBrowse => !AccessControl || Principal is not null || anonymousReadable;

    /// <summary>Whether the viewer may read this module path (see <see cref="ReadRule"/>). What it may not read does not
    /// exist for it: answer 404, never 403.</summary>
    public bool CanRead(string modulePath) => canRead(modulePath);

    /// <summary>The one rule of what the console shows of modules, for pages and JSON alike: never an
    /// --authorize-by-origin path (only the origin's own permissions open those); else, without access control,
    /// everything; with it, every module to an admin (who can grant itself anything), and to others the anonymous
    /// patterns and the principal's grants.</summary>
    public static Func<string, bool> ReadRule(bool accessControl, GlobList anonymous, GlobList byOrigin, AuthPrincipal? principal)
    {
        ArgumentNullException.ThrowIfNull(anonymous);
        ArgumentNullException.ThrowIfNull(byOrigin);
        if (!accessControl || principal is { Admin: true })
        {
            return m => !byOrigin.Matches(m);
        }

        return m => !byOrigin.Matches(m) && (anonymous.Matches(m) || principal?.Grants.Matches(m) == true);
    }
}

/// <summary>Console paths and the viewer of a request.</summary>
public static class ConsoleAccess
{
    /// <summary>The access-control label (and metrics route) of console requests.</summary>
    public const string Artifact = "console";

    /// <summary>HttpContext.Items key of the <see cref="ConsoleViewer"/>, set by the access control for console paths.</summary>
    public const string ViewerItem = "warren.viewer";

    /// <summary>/ui and /api, and everything under them: pages and APIs for people, never module paths.</summary>
    public static bool IsConsolePath(string path) =>
        path.StartsWith("/ui", StringComparison.Ordinal) && (path.Length == 3 || path[3] == '/') ||
        path.StartsWith("/api", StringComparison.Ordinal) && (path.Length == 4 || path[4] == '/');

    /// <summary>The viewer of a console request. Without access control: everyone, reading what is not authorized by
    /// origin. A request the access control did not see (no auth file middleware run) reads nothing.</summary>
    public static ConsoleViewer Viewer(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(ViewerItem, out var v) && v is ConsoleViewer viewer)
        {
            return viewer;
        }

        var store = context.RequestServices.GetService<AuthStore>();
        if (store is { Enabled: false })
        {
            var readable = context.Items.TryGetValue(Auth.AccessControl.ReadableItem, out var r) && r is Func<string, bool> f ? f : _ => true;
            viewer = new ConsoleViewer(AuthFile.AnonymousName, null, false, true, readable);
        }
        else
        {
            viewer = new ConsoleViewer(AuthFile.AnonymousName, null, true, false, _ => false);
        }

        context.Items[ViewerItem] = viewer;
        return viewer;
    }
}

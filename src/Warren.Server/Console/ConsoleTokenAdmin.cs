using Warren.Server.Auth;

namespace Warren.Server.ConsoleData;

/// <summary>Why a token change was not made.</summary>
public enum TokenAdminProblemKind
{
    /// <summary>There is no auth file, so there are no tokens to change.</summary>
    AccessControlOff,

    /// <summary>The request itself is invalid (name, grants, expiry).</summary>
    Invalid,

    /// <summary>The change conflicts with the file (the name is taken).</summary>
    Conflict,

    /// <summary>No token of that name.</summary>
    NotFound,

    /// <summary>The auth file could not be written (a fault, logged).</summary>
    Failed,
}

/// <summary>What went wrong with a token change: its kind (mapped to an HTTP status by the endpoints) and its one-line reason.</summary>
public sealed record TokenAdminProblem(TokenAdminProblemKind Kind, string Reason);

/// <summary>The tokens of the auth file: list, create (the token is returned once), revoke, through
/// <see cref="AuthTokens"/> (the file is edited under its lock, written atomically with mode 600), after which the
/// live <see cref="AuthStore"/> reloads at once: a revoked token is refused by the very next request.</summary>
public sealed class ConsoleTokenAdmin(AuthStore store, AuditTrail trail, IOptions<WarrenOptions> options, TimeProvider time, ILogger<ConsoleTokenAdmin> logger)
{
    private readonly string? _file = string.IsNullOrEmpty(options.Value.AuthFile) ? null : Path.GetFullPath(options.Value.AuthFile);

    /// <summary>The principals of the file in force (as loaded from disk now).</summary>
    public ConsoleTokens List()
    {
        if (_file is null)
        {
            return new ConsoleTokens(false, []);
        }

        var now = time.GetUtcNow();
        var doc = AuthFile.Load(_file);
        return new ConsoleTokens(true, doc.Principals.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => View(p, now)).ToList());
    }

    /// <summary>Creates a principal; the problem is set (and nothing written) when the request is invalid or the name taken.</summary>
    public (ConsoleTokenCreated? Created, TokenAdminProblem? Problem) Create(TokenCreateRequest request, string actor)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_file is null)
        {
            return (null, new TokenAdminProblem(TokenAdminProblemKind.AccessControlOff, "access control is off (no auth file): there are no tokens to create"));
        }

        var now = time.GetUtcNow();
        DateTimeOffset? expires = null;
        if (request.Expires is { Length: > 0 } text)
        {
            expires = AuthFile.ParseExpiry(text, now, out var expiryProblem);
            if (expires is null)
            {
                return (null, new TokenAdminProblem(TokenAdminProblemKind.Invalid, expiryProblem!));
            }
        }

        var grants = (request.Grants ?? []).Select(g => g?.Trim() ?? "").ToList();
        if (grants.Any(g => g.Length == 0 || g.Contains(',', StringComparison.Ordinal)))
        {
            return (null, new TokenAdminProblem(TokenAdminProblemKind.Invalid, "grants: one non-empty pattern per entry, without commas"));
        }

        if (AuthTokens.Check(request.Name, grants, request.Admin) is { } problem)
        {
            return (null, new TokenAdminProblem(TokenAdminProblemKind.Invalid, problem));
        }

        AuthTokens.Created created;
        trail.Expect("created", request.Name!);
        try
        {
            created = AuthTokens.Create(_file, request.Name!, grants, request.Admin, expires, now);
        }
        catch (Exception e) when (e is AuthFileException or IOException or UnauthorizedAccessException)
        {
            trail.Forget("created", request.Name!);
            ConsoleLog.AuthFileUnwritable(logger, _file, e.Message);
            return (null, new TokenAdminProblem(TokenAdminProblemKind.Failed, "the auth file cannot be changed (see the server log)"));
        }

        if (created.Token is null)
        {
            trail.Forget("created", request.Name!);
            return (null, new TokenAdminProblem(TokenAdminProblemKind.Conflict, created.Problem!));
        }

        store.ReloadNow();
        var entry = created.Entry!;
        var grantText = grants.Count == 0 ? "none" : string.Join(',', grants);
        var expiresText = expires?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "never";
        ConsoleLog.TokenCreated(logger, entry.Name, actor, grantText, entry.Admin, expiresText);
        trail.Add(AuditKinds.Token, actor, "created", null, null, StatusCodes.Status201Created,
            $"token \"{entry.Name}\": grants {grantText}{(entry.Admin ? ", admin" : "")}, expires {expiresText}");
        return (new ConsoleTokenCreated(View(entry, now), created.Token), null);
    }

    /// <summary>Revokes the principal named name; the problem is set when there is none.</summary>
    public TokenAdminProblem? Revoke(string name, string actor)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_file is null)
        {
            return new TokenAdminProblem(TokenAdminProblemKind.AccessControlOff, "access control is off (no auth file): there are no tokens to revoke");
        }

        if (AuthFile.CheckName(name) is { } nameProblem)
        {
            return new TokenAdminProblem(TokenAdminProblemKind.Invalid, nameProblem);
        }

        int removed;
        trail.Expect("revoked", name);
        try
        {
            removed = AuthTokens.Revoke(_file, name);
        }
        catch (Exception e) when (e is AuthFileException or IOException or UnauthorizedAccessException)
        {
            trail.Forget("revoked", name);
            ConsoleLog.AuthFileUnwritable(logger, _file, e.Message);
            return new TokenAdminProblem(TokenAdminProblemKind.Failed, "the auth file cannot be changed (see the server log)");
        }

        if (removed == 0)
        {
            trail.Forget("revoked", name);
            return new TokenAdminProblem(TokenAdminProblemKind.NotFound, $"no token \"{name}\"");
        }

        store.ReloadNow();
        ConsoleLog.TokenRevoked(logger, name, actor);
        trail.Add(AuditKinds.Token, actor, "revoked", null, null, StatusCodes.Status200OK, $"token \"{name}\"");
        return null;
    }

    private static ConsoleToken View(AuthPrincipalEntry p, DateTimeOffset now) =>
        new(p.Name, p.Grants, p.Admin, p.Expires, p.Expires is { } x && x <= now, p.Created);
}

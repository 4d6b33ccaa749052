namespace Warren.Server.Auth;

/// <summary>Creating and revoking principals of an auth file: what `warren token create|revoke` and the console's
/// token API both do. The file is edited under its lock and written atomically (mode 600); a running server reloads it.</summary>
public static class AuthTokens
{
    /// <summary>The outcome of a creation: the entry written and its token (the only time the token exists outside the
    /// client), or the reason nothing was written.</summary>
    public sealed record Created(AuthPrincipalEntry? Entry, string? Token, string? Problem);

    /// <summary>null when a principal with this name, these grants and admin flag may be created, else the reason.</summary>
    public static string? Check(string? name, IReadOnlyList<string> grants, bool admin)
    {
        ArgumentNullException.ThrowIfNull(grants);
        if (AuthFile.CheckName(name) is { } nameProblem)
        {
            return nameProblem;
        }

        if (grants.Count == 0 && !admin)
        {
            return "give grants (what it may read) or admin";
        }

        return grants.Select(ModulePatterns.Validate).FirstOrDefault(e => e is not null) is { } patternProblem ? "grants: " + patternProblem : null;
    }

    /// <summary>Adds a principal with a new token to the file (created when missing). Problem is set, and nothing
    /// written, when the name is taken or the request is invalid. The token's hash costs the Argon2 defaults unless a
    /// lower memory and iteration count are given (machines that check many tokens cheaply, tests).</summary>
    /// <exception cref="AuthFileException">The file exists and is broken.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static Created Create(string file, string name, IReadOnlyList<string> grants, bool admin, DateTimeOffset? expires, DateTimeOffset now,
        int memoryKiB = TokenHash.DefaultMemoryKiB, int iterations = TokenHash.DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(grants);
        if (Check(name, grants, admin) is { } problem)
        {
            return new Created(null, null, problem);
        }

        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        var (id, token) = TokenFormat.Create();
        var entry = new AuthPrincipalEntry
        {
            Name = name,
            Id = id,
            Hash = TokenHash.Create(token, memoryKiB, iterations),
            Grants = grants.ToList(),
            Admin = admin,
            Expires = expires,
            Created = now,
        };
        var added = AuthFile.Edit(file, doc =>
        {
            if (doc.Principals.Any(p => p.Name == name))
            {
                return false;
            }

            doc.Principals.Add(entry);
            return true;
        });
        return added ? new Created(entry, token, null) : new Created(null, null, $"\"{name}\" exists already; revoke it first to replace its token");
    }

    /// <summary>Removes the principal named name; returns how many were removed (0 or 1).</summary>
    /// <exception cref="AuthFileException">The file is broken.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static int Revoke(string file, string name) => AuthFile.Edit(file, doc => doc.Principals.RemoveAll(p => p.Name == name));
}

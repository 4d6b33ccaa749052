namespace Warren.Server.Endpoints;

public enum ProxyRoute
{
    List,
    Latest,
    Info,
    Mod,
    Zip,

    /// <summary>An .info query that is not a version of the path (branch, tag, commit prefix, non-canonical or wrong-major version).</summary>
    Query,
    SumDb,
}

/// <summary>A checked request: decoded module path and version.</summary>
public sealed record ProxyRequest(ProxyRoute Route, string ModulePath, string? Version, string? SumDbRest = null);

/// <summary>A request Warren refuses, with the status and one-line reason.</summary>
public sealed record ProxyRequestError(int Status, string Message);

/// <summary>Parses and checks GOPROXY protocol paths. Everything is validated before it can name a file.</summary>
public static class ProxyRequestParser
{
    /// <summary>Longest escaped version accepted (the store's file names must fit 255 bytes).</summary>
    public const int MaxVersionLength = 200;

    /// <summary>Longest escaped module path accepted; each element must also fit a file name.</summary>
    public const int MaxPathLength = 1024;

    public static ProxyRequestError? CheckRawTarget(string? rawTarget)
    {
        if (rawTarget is null)
        {
            return null;
        }

        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? rawTarget.AsSpan(0, query) : rawTarget.AsSpan();
        if (path.ContainsAny('%', '\\') &&
            (path.Contains("%2e", StringComparison.OrdinalIgnoreCase) || path.Contains("%2f", StringComparison.OrdinalIgnoreCase) ||
             path.Contains("%5c", StringComparison.OrdinalIgnoreCase) || path.Contains('\\')))
        {
            return new ProxyRequestError(400, "bad request: encoded '.', '/' or '\\' in the path");
        }

        while (true)
        {
            var slash = path.IndexOf('/');
            var segment = slash < 0 ? path : path[..slash];
            if (segment is "." or "..")
            {
                return new ProxyRequestError(400, "bad request: '.' or '..' path segment");
            }

            if (slash < 0)
            {
                return null;
            }

            path = path[(slash + 1)..];
        }
    }

    public static ProxyRequest? Parse(string path, out ProxyRequestError? error)
    {
        error = null;
        if (path.StartsWith("/sumdb/", StringComparison.Ordinal))
        {
            return new ProxyRequest(ProxyRoute.SumDb, "", null, path["/sumdb/".Length..]);
        }

        string escapedModule;
        string? escapedVersion = null;
        ProxyRoute route;
        var at = path.IndexOf("/@v/", StringComparison.Ordinal);
        if (at > 0)
        {
            escapedModule = path[1..at];
            var tail = path[(at + 4)..];
            if (tail == "list")
            {
                route = ProxyRoute.List;
            }
            else
            {
                var dot = tail.LastIndexOf('.');
                var ext = dot >= 0 ? tail[dot..] : "";
                route = ext switch
                {
                    ".info" => ProxyRoute.Info,
                    ".mod" => ProxyRoute.Mod,
                    ".zip" => ProxyRoute.Zip,
                    _ => ProxyRoute.SumDb,
                };
                if (route == ProxyRoute.SumDb)
                {
                    error = new ProxyRequestError(404, "not found: unknown endpoint (want @v/list, @v/VERSION.info, .mod or .zip)");
                    return null;
                }

                escapedVersion = tail[..dot];
            }
        }
        else if (path.EndsWith("/@latest", StringComparison.Ordinal) && path.Length > "/@latest".Length + 1)
        {
            escapedModule = path[1..^"/@latest".Length];
            route = ProxyRoute.Latest;
        }
        else
        {
            error = new ProxyRequestError(404, "not found: not a module proxy endpoint");
            return null;
        }

        if (escapedModule.Length > MaxPathLength || escapedModule.Split('/').Any(e => e.Length > 255))
        {
            error = new ProxyRequestError(400, "bad request: module path too long");
            return null;
        }

        if (!ModulePath.TryUnescapePath(escapedModule, out var modulePath, out var pathError))
        {
            error = new ProxyRequestError(400, "bad request: " + Printable(pathError ?? "invalid escaped module path"));
            return null;
        }

        if (escapedVersion is null)
        {
            return new ProxyRequest(route, modulePath, null);
        }

        if (escapedVersion.Length == 0 || escapedVersion.Length > MaxVersionLength)
        {
            error = new ProxyRequestError(400, escapedVersion.Length == 0 ? "bad request: empty version" : "bad request: version too long");
            return null;
        }

        if (!ModulePath.TryUnescapeVersion(escapedVersion, out var version, out var versionError))
        {
            error = new ProxyRequestError(400, "bad request: " + Printable(versionError ?? "invalid escaped version"));
            return null;
        }

        var canonical = SemVer.IsValid(version) && SemVer.Canonical(version) == version;
        if (!canonical)
        {
            if (route == ProxyRoute.Info)
            {
                return new ProxyRequest(ProxyRoute.Query, modulePath, version);
            }

            error = new ProxyRequestError(400, $"bad request: version \"{Printable(version)}\" is not a canonical semantic version");
            return null;
        }

        if (ModuleVersion.Check(modulePath, version) is { } problem)
        {
            if (route == ProxyRoute.Info)
            {
                // The go command stats any version query through VERSION.info, including a semantic version the path
                // cannot have (v2.0.0 of a v0/v1 path): like a branch or a commit, upstream resolves it (to
                // v2.0.0+incompatible). A .mod or .zip is only ever asked for a version valid for the path.
                return new ProxyRequest(ProxyRoute.Query, modulePath, version);
            }

            error = new ProxyRequestError(404, "not found: " + problem);
            return null;
        }

        return new ProxyRequest(route, modulePath, version);
    }

    /// <summary>Input echoed in an error: control and non-ASCII characters escaped, at most 300 characters.</summary>
    public static string Printable(string s) => GoQuoting.Printable(s);
}

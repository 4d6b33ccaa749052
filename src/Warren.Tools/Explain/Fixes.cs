namespace Warren.Tools.Explain;

/// <summary>The one-line fixes of <see cref="LogExplainer"/>'s classifications.</summary>
internal static class Fixes
{
    public const string DiskFull =
        "the disk is full: free space where GOMODCACHE and GOCACHE live (go clean -modcache; go clean -cache; in Docker: docker builder prune) or point them at a larger volume";

    public static string Checksum(string? subject) =>
        $"do not delete the go.sum line to make this pass: the downloaded bits of {subject ?? "the module"} differ from the recorded hash. Check whether the version was re-tagged upstream or a proxy or cache serves altered files, then `go clean -modcache` and download again, and compare with the checksum database (https://sum.golang.org/lookup/{subject ?? "MODULE@VERSION"})";

    public static string GoSumMissing(string text, string? subject)
    {
        var hint = text.Contains("go mod download", StringComparison.Ordinal) || text.Contains("go get", StringComparison.Ordinal)
            ? "run the command the go tool suggests"
            : $"run `go mod download {ModuleOnly(subject) ?? "MODULE"}` or `go mod tidy`";
        return $"go.sum lacks a hash the build needs: {hint} where the module is developed and commit go.sum (builds with -mod=readonly, the default, never add it)";
    }

    public static string SumDbUnreachable(string db, string? network) =>
        $"the checksum database {db} could not be reached{(network is null ? "" : $" ({network})")}: allow access to it (or to a GOPROXY that proxies /sumdb/{db}/), check GOSUMDB; only for private modules set GONOSUMDB=<pattern>, never GOSUMDB=off for public ones";

    public static string PrivatePath(string? subject, string db)
    {
        var pattern = PrivatePattern(subject) ?? "<module prefix>";
        return $"{ModuleOnly(subject) ?? "the module"} is private but its hash was requested from the public checksum database {db}: set GOPRIVATE={pattern} (or GONOSUMDB={pattern}) so its path is not sent there";
    }

    public static string Network(string id, string? host)
    {
        var where = host ?? "the server";
        return id switch
        {
            ExplainIds.NetRefused => $"nothing accepts connections at {where}: start the proxy or correct host:port in GOPROXY (go env GOPROXY); check firewalls and that the service listens on that address",
            ExplainIds.NetDns => $"{where} does not resolve: check its spelling in GOPROXY or the import path, and the DNS resolver (/etc/resolv.conf; in Docker the build network's DNS); set HTTPS_PROXY if the internet is only reachable through a proxy",
            ExplainIds.NetTimeout => $"the connection to {where} timed out: check the network path and HTTPS_PROXY, the server's health, then retry; in CI prefer a nearby GOPROXY (a Warren cache)",
            _ => $"TLS verification of {where} failed: install the CA certificate that signs it (system trust store, e.g. update-ca-certificates in the image, or SSL_CERT_FILE); a TLS-intercepting corporate proxy needs its CA; do not use GOINSECURE for public modules",
        };
    }

    public static string PlainHttp(string? host) =>
        $"{host ?? "the server"} speaks plain HTTP, not TLS: write http:// for it in GOPROXY (or GOSUMDB), or enable TLS on the server";

    public static string MissingRequirement(string? package) =>
        $"go.mod does not require a module providing {package ?? "the package"}: run `go get {package ?? "PACKAGE"}` (or go mod tidy) and commit go.mod and go.sum; in a Dockerfile copy go.mod and go.sum before building";

    public static string Auth(string? host) =>
        $"{host ?? "the server"} refused or asked for credentials: add a ~/.netrc entry (machine HOST login USER password TOKEN) for it, or a git `url.\"https://TOKEN@HOST/\".insteadOf`; for private modules set GOPRIVATE=<pattern> so they are fetched directly with those credentials";

    public static string NotFound(string? subject, string? host) =>
        $"{subject ?? "the module"} is not on {host ?? "the server"}: check the module path and version (go list -m -versions {ModuleOnly(subject) ?? "MODULE"}); a private module needs GOPRIVATE=<pattern> so it is fetched directly; a new tag may not have reached the proxy yet";

    public static string Gone(string? subject, string? host) =>
        $"{host ?? "the server"} answered 410 Gone for {subject ?? "the module"}: it cannot or will not serve it (proxy.golang.org does so for private or removed modules); set GOPRIVATE=<pattern> for private modules, otherwise choose another version";

    public static string UnknownRevision(string? subject) =>
        $"the version or revision of {subject ?? "the module"} does not exist: check that the tag or commit is pushed (git ls-remote), or use a released version (go list -m -versions {ModuleOnly(subject) ?? "MODULE"})";

    public static string InvalidVersion(string? subject) =>
        $"the version of {subject ?? "the module"} is invalid or matches nothing: use a semantic version listed by go list -m -versions {ModuleOnly(subject) ?? "MODULE"} (a module at v2 or later needs its /vN path suffix)";

    public static string ProxyError(string? host, string code) =>
        $"{host ?? "the proxy"} failed (HTTP {code}): a server-side error, not your module; retry, check the proxy's logs and health, or add a fallback to GOPROXY (e.g. GOPROXY=https://proxy.example,https://proxy.golang.org,direct)";

    /// <summary>The module path of path@version.</summary>
    public static string? ModuleOnly(string? subject) => subject is null ? null : subject.Split('@')[0];

    /// <summary>A GOPRIVATE pattern for a module: host/owner on the big code hosts, else the host.</summary>
    public static string? PrivatePattern(string? subject)
    {
        var path = ModuleOnly(subject);
        if (path is null)
        {
            return null;
        }

        var parts = path.Split('/');
        return parts.Length >= 2 && parts[0] is "github.com" or "gitlab.com" or "bitbucket.org"
            ? parts[0] + "/" + parts[1]
            : parts[0];
    }
}

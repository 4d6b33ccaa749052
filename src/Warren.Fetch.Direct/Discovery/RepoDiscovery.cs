using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Warren.Core.Limits;
using Warren.Core.Modules;
using Warren.Fetch.Direct.Egress;
using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Discovery;

/// <summary>
/// Finds the repository that holds a module path, as the go command does in direct mode (GOPROXY=direct):
/// cmd/go/internal/vcs RepoRootForImportPath in module mode (PreferMod) with GOINSECURE deciding the security mode.
/// <list type="number">
/// <item>Well-known hosts (github.com, bitbucket.org, hub.jazz.net, git.apache.org, git.openstack.org, chiselapp.com)
/// and paths with a ".git"/".hg"/... element are mapped without a network request.</item>
/// <item>Otherwise GET https://PATH?go-get=1 (and, for GOINSECURE paths after a failed https request, http://) and
/// read the go-import meta tags; a tag for a shorter prefix is confirmed by fetching PREFIX?go-get=1.</item>
/// <item>If that fails, Launchpad paths are still mapped (to bzr).</item>
/// </list>
/// Outcomes: <see cref="DirectStatus.Ok"/> with a root whose vcs is "git" or "mod". Everything the go command reports
/// as a lookup error (its lookupDirect wraps them all as "not exist") is <see cref="DirectStatus.NotFound"/> — no or
/// unmatched tags, an HTTP 4xx, an invalid path, a version control system other than git (the go command would run hg,
/// svn, bzr or fossil; this implementation has only git, and the answer is as permanent as a missing repository) and
/// a plain-http repository URL outside GOINSECURE. Failures of the infrastructure are
/// <see cref="DirectStatus.Failed"/> (no connection, HTTP 5xx or 429) or <see cref="DirectStatus.Timeout"/>.
/// Messages are one line, in the go command's words where it has them, with any URL credentials masked.
/// </summary>
public sealed partial class RepoDiscovery
{
    private static readonly string[] GitSchemes = ["git", "https", "http", "git+ssh", "ssh"];
    private static readonly string[] DefaultSecureSchemes = ["https", "git+ssh", "bzr+ssh", "svn+ssh", "ssh"];

    private readonly HttpClient http;
    private readonly RepoDiscoveryOptions options;
    private readonly Lazy<HardenedGit> defaultGit;
    private readonly BoundedCache<RepoRoot> cache;

    public RepoDiscovery(HttpClient http, RepoDiscoveryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        this.http = http;
        this.options = options ?? new RepoDiscoveryOptions();
        RepoDiscoveryOptions o = this.options;
        defaultGit = new Lazy<HardenedGit>(() => new HardenedGit(new GitNetworkOptions(), o.Git));
        cache = new BoundedCache<RepoRoot>(Math.Max(1, this.options.CacheMaxEntries), time: this.options.TimeProvider);
    }

    /// <summary>The repository root for a module path, or why there is none.</summary>
    public async Task<(RepoRoot? Root, DirectResult Result)> ResolveAsync(string modulePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        if (cache.TryGet(modulePath, out var cached))
        {
            return (cached, DirectResult.Success);
        }

        bool insecure = options.GoInsecure.Length > 0 && ModulePatterns.MatchPrefixPatterns(options.GoInsecure, modulePath);
        Outcome outcome = await LookupAsync(modulePath, insecure, cancellationToken).ConfigureAwait(false);
        if (outcome.Root is not null)
        {
            outcome = Accept(outcome.Root, modulePath, insecure);
        }

        if (outcome.Root is null)
        {
            return (null, new DirectResult(outcome.Status, Sanitize(outcome.Message)));
        }

        if (options.CacheTtl > TimeSpan.Zero)
        {
            cache.Set(modulePath, outcome.Root, options.CacheTtl);
        }

        return (outcome.Root, DirectResult.Success);
    }

    /// <summary>Forgets every cached resolution.</summary>
    public void ClearCache() => cache.Clear();

    /// <summary>The result of one step: a root, or a status and message.</summary>
    private sealed record Outcome(RepoRoot? Root, DirectStatus Status, string Message)
    {
        public static Outcome Found(RepoRoot root) => new(root, DirectStatus.Ok, "");

        public static Outcome NotFound(string message) => new(null, DirectStatus.NotFound, message);

        public Outcome Wrap(string prefix) => this with { Message = prefix + Message };
    }

    /// <summary>RepoRootForImportPath: the static table, else the dynamic lookup, then the after-dynamic table.</summary>
    private async Task<Outcome> LookupAsync(string importPath, bool insecure, CancellationToken cancellationToken)
    {
        KnownHostResult known = KnownHosts.Lookup(importPath);
        Outcome outcome = known.Kind switch
        {
            KnownHostKind.Match => await FromKnownHostAsync(known, insecure, cancellationToken).ConfigureAwait(false),
            KnownHostKind.Invalid => Outcome.NotFound(known.Message),
            _ => (await LookupDynamicAsync(importPath, insecure, cancellationToken).ConfigureAwait(false))
                .Wrap($"unrecognized import path {GoImportMeta.Quote(importPath)}: "),
        };

        if (outcome.Root is null)
        {
            KnownHostResult after = KnownHosts.LookupAfterDynamic(importPath);
            if (after.Kind == KnownHostKind.Match)
            {
                return await FromKnownHostAsync(after, insecure, cancellationToken).ConfigureAwait(false);
            }
        }

        return outcome;
    }

    private async Task<Outcome> FromKnownHostAsync(KnownHostResult known, bool insecure, CancellationToken cancellationToken)
    {
        if (!known.SchemelessUrl)
        {
            return Outcome.Found(new RepoRoot(known.Root, known.Vcs, known.Url));
        }

        if (known.Vcs != "git")
        {
            // Other systems are refused later; there is nothing to probe with.
            return Outcome.Found(new RepoRoot(known.Root, known.Vcs, "https://" + known.Url));
        }

        // The first scheme that answers; the go command falls back to the first of its list when none does.
        foreach (string scheme in GitSchemes)
        {
            if (!insecure && !IsSecureScheme("git", scheme))
            {
                continue;
            }

            string candidate = scheme + "://" + known.Url;
            if (await PingAsync(candidate, cancellationToken).ConfigureAwait(false))
            {
                return Outcome.Found(new RepoRoot(known.Root, "git", candidate));
            }
        }

        return Outcome.Found(new RepoRoot(known.Root, "git", GitSchemes[0] + "://" + known.Url));
    }

    private async Task<bool> PingAsync(string url, CancellationToken cancellationToken)
    {
        if (options.PingRepository is { } ping)
        {
            return await ping(url, cancellationToken).ConfigureAwait(false);
        }

        // The same hardened git as the mirrors: private HOME and configuration, GIT_ALLOW_PROTOCOL, ssh BatchMode,
        // Warren's credential helper only.
        HardenedGit git = options.HardenedGit ?? defaultGit.Value;
        var (result, _) = await git.LsRemoteAsync(url, options.PingTimeout, cancellationToken).ConfigureAwait(false);
        return result.Status == DirectStatus.Ok;
    }

    /// <summary>The checks after a root is known: a version control system this implementation has, and a URL whose
    /// scheme is secure unless the module path matches GOINSECURE.</summary>
    private Outcome Accept(RepoRoot root, string modulePath, bool insecure)
    {
        if (root.Vcs != "git" && root.Vcs != "mod")
        {
            return Outcome.NotFound($"{root.Root}: unsupported version control system {root.Vcs}");
        }

        if (!insecure && !IsSecureUrl(root.Vcs, root.Url))
        {
            return Outcome.NotFound($"cannot download, {root.Url} uses insecure protocol ({modulePath} does not match GOINSECURE)");
        }

        return Outcome.Found(root);
    }

    private bool IsSecureUrl(string vcs, string url)
    {
        string? scheme = UrlScheme(url, out bool valid);
        if (!valid || scheme is null)
        {
            return false;
        }

        return vcs == "mod" ? scheme == "https" : IsSecureScheme(vcs, scheme);
    }

    private bool IsSecureScheme(string vcs, string scheme)
    {
        if (vcs == "git" && !string.IsNullOrEmpty(options.GitAllowProtocol))
        {
            return options.GitAllowProtocol.Split(':').Contains(scheme, StringComparer.Ordinal);
        }

        return DefaultSecureSchemes.Contains(scheme, StringComparer.Ordinal);
    }

    /// <summary>The scheme of a URL as net/url's getScheme finds it (lower-cased), null when there is none; valid is
    /// false when url.Parse would fail (empty scheme, control characters).</summary>
    internal static string? UrlScheme(string url, out bool valid)
    {
        valid = !url.Any(c => c < 0x20 || c == 0x7f);
        for (int i = 0; i < url.Length; i++)
        {
            char c = url[i];
            if (char.IsAsciiLetter(c))
            {
                continue;
            }

            if (char.IsAsciiDigit(c) || c is '+' or '-' or '.')
            {
                if (i == 0)
                {
                    break;
                }

                continue;
            }

            if (c == ':')
            {
                if (i == 0)
                {
                    valid = false;
                    return null;
                }

                return url[..i].ToLowerInvariant();
            }

            break;
        }

        return null;
    }

    /// <summary>validateRepoRoot: an absolute URL with a scheme other than file.</summary>
    internal static string? ValidateRepoUrl(string repoUrl)
    {
        string? scheme = UrlScheme(repoUrl, out bool valid);
        if (!valid)
        {
            return "invalid URL";
        }

        if (scheme is null)
        {
            return "no scheme";
        }

        return scheme == "file" ? "file scheme disallowed" : null;
    }

    /// <summary>repoRootForImportDynamic. Messages are not yet wrapped with "unrecognized import path".</summary>
    private async Task<Outcome> LookupDynamicAsync(string importPath, bool insecure, CancellationToken cancellationToken)
    {
        if (QueryTarget(importPath) is not { } target)
        {
            return Outcome.NotFound("import path does not begin with hostname");
        }

        Fetched page = await GetAsync(target, insecure, cancellationToken).ConfigureAwait(false);
        if (page.Error is not null)
        {
            return new Outcome(null, page.ErrorStatus, (insecure ? "http/" : "") + "https fetch: " + page.Error);
        }

        MetaImportParse parsed = GoImportMeta.Parse(page.Body, preferMod: true);
        if (parsed.Imports.Count == 0 && page.StatusCode != 200)
        {
            return StatusOutcome(page);
        }

        if (parsed.Error is not null)
        {
            return Outcome.NotFound($"parsing {importPath}: {parsed.Error}");
        }

        var (match, matchError, noneMatched) = GoImportMeta.Match(parsed.Imports, importPath);
        if (match is null)
        {
            return Outcome.NotFound(noneMatched
                ? $"parse {page.Url}: no go-import meta tags ({matchError})"
                : $"parse //{target}: {matchError}");
        }

        if (match.Prefix != importPath)
        {
            // A page may speak for a shorter prefix only if the prefix's own page says the same.
            Outcome? disagreement = await VerifyPrefixAsync(match, importPath, page.Url, insecure, cancellationToken).ConfigureAwait(false);
            if (disagreement is not null)
            {
                return disagreement;
            }
        }

        if (ValidateRepoUrl(match.RepoRoot) is { } invalid)
        {
            return Outcome.NotFound($"{page.Url}: invalid repo root {GoImportMeta.Quote(match.RepoRoot)}: {invalid}");
        }

        if (match.Vcs != "mod" && !KnownHosts.VcsCommands.Contains(match.Vcs, StringComparer.Ordinal))
        {
            return Outcome.NotFound($"{page.Url}: unknown vcs {GoImportMeta.Quote(match.Vcs)}");
        }

        return Outcome.Found(new RepoRoot(match.Prefix, match.Vcs, match.RepoRoot));
    }

    /// <summary>metaImportsForPrefix and the comparison: null when the prefix's page declares the same import.</summary>
    private async Task<Outcome?> VerifyPrefixAsync(MetaImport match, string importPath, string firstUrl, bool insecure, CancellationToken cancellationToken)
    {
        if (QueryTarget(match.Prefix) is not { } target)
        {
            return Outcome.NotFound("import path does not begin with hostname");
        }

        Fetched page = await GetAsync(target, insecure, cancellationToken).ConfigureAwait(false);
        if (page.Error is not null)
        {
            return new Outcome(null, page.ErrorStatus, $"fetching {match.Prefix}: {page.Error}");
        }

        MetaImportParse parsed = GoImportMeta.Parse(page.Body, preferMod: true);
        if (parsed.Imports.Count == 0 && page.StatusCode != 200)
        {
            return StatusOutcome(page);
        }

        if (parsed.Error is not null)
        {
            return Outcome.NotFound($"parsing {page.Url}: {parsed.Error}");
        }

        if (parsed.Imports.Count == 0)
        {
            return Outcome.NotFound($"fetching {match.Prefix}: no go-import meta tag found in {page.Url}");
        }

        var (second, _, _) = GoImportMeta.Match(parsed.Imports, importPath);
        if (second is null || second != match)
        {
            return Outcome.NotFound($"{firstUrl} and //{target} disagree about go-import for {match.Prefix}");
        }

        return null;
    }

    /// <summary>Response.Err: "reading URL: 404 Not Found". 5xx and 429 are the server's trouble, not an answer.</summary>
    private static Outcome StatusOutcome(Fetched page)
    {
        DirectStatus status = page.StatusCode >= 500 || page.StatusCode == 429 ? DirectStatus.Failed : DirectStatus.NotFound;
        return new Outcome(null, status, $"reading {page.Url}: {page.Status}");
    }

    /// <summary>urlForImportPath without a scheme: "host/path?go-get=1", or null when the first element has no dot.</summary>
    internal static string? QueryTarget(string importPath)
    {
        int slash = importPath.IndexOf('/', StringComparison.Ordinal);
        string host = slash < 0 ? importPath : importPath[..slash];
        string path = slash < 0 ? "/" : importPath[slash..];
        if (!host.Contains('.', StringComparison.Ordinal))
        {
            return null;
        }

        return host + EscapePath(path) + "?go-get=1";
    }

    /// <summary>url.URL.EscapedPath: keep unreserved characters and "$&amp;+,/:;=@", escape the rest as UTF-8.</summary>
    private static string EscapePath(string path)
    {
        var sb = new StringBuilder(path.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(path))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || "-._~$&+,/:;=@".Contains(c, StringComparison.Ordinal))
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    /// <summary>A ?go-get=1 response (Url is the URL asked, scheme included), or why there is none.</summary>
    private sealed record Fetched(string Url, int StatusCode, string Status, byte[] Body, string? Error, DirectStatus ErrorStatus);

    /// <summary>web.Get with no scheme: https first; for a GOINSECURE path, http after an https request that failed
    /// to produce a response (an HTTP status, even an error status, is a response and is not retried).</summary>
    private async Task<Fetched> GetAsync(string target, bool insecure, CancellationToken cancellationToken)
    {
        TimeSpan httpsTimeout = insecure && options.InsecureHttpsTimeout < options.Timeout ? options.InsecureHttpsTimeout : options.Timeout;
        HttpClient httpsClient = insecure && options.InsecureHttpsClient is { } impatient ? impatient : http;
        Fetched secure = await FetchAsync(httpsClient, "https://" + target, httpsTimeout, cancellationToken).ConfigureAwait(false);
        if (secure.Error is null || !insecure)
        {
            return secure;
        }

        return await FetchAsync(http, "http://" + target, options.Timeout, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Fetched> FetchAsync(HttpClient client, string url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string shown = Sanitize(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri))
        {
            return new Fetched(shown, 0, "", [], $"parse {GoImportMeta.Quote(shown)}: invalid URL", DirectStatus.NotFound);
        }

        using var slot = options.FetchGate is { } gate ? await gate.EnterAsync(cancellationToken).ConfigureAwait(false) : null;
        using var timer = new CancellationTokenSource(timeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            byte[] body = await ReadLimitedAsync(response.Content, options.MaxResponseBytes, linked.Token).ConfigureAwait(false);
            int code = (int)response.StatusCode;
            string reason = response.ReasonPhrase is { Length: > 0 } phrase ? phrase : ReasonPhrase(response.StatusCode);
            return new Fetched(shown, code, $"{code} {reason}".TrimEnd(), body, null, DirectStatus.Ok);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string seconds = timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            return new Fetched(shown, 0, "", [], $"Get {GoImportMeta.Quote(shown)}: timeout after {seconds}s", DirectStatus.Timeout);
        }
        catch (Exception e) when (EgressDeniedException.Find(e) is { } refusal)
        {
            // A refused destination is as permanent as an unreachable origin is to the go command (lookupDirect
            // reports every discovery error as "not exist"): not found, with the policy's one-line reason.
            return new Fetched(shown, 0, "", [], $"Get {GoImportMeta.Quote(shown)}: {refusal.Message}", DirectStatus.NotFound);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException)
        {
            return new Fetched(shown, 0, "", [], $"Get {GoImportMeta.Quote(shown)}: {Describe(e)}", DirectStatus.Failed);
        }
    }

    private static string ReasonPhrase(HttpStatusCode code) => code switch
    {
        HttpStatusCode.NotFound => "Not Found",
        HttpStatusCode.Gone => "Gone",
        HttpStatusCode.Forbidden => "Forbidden",
        HttpStatusCode.Unauthorized => "Unauthorized",
        HttpStatusCode.InternalServerError => "Internal Server Error",
        HttpStatusCode.BadGateway => "Bad Gateway",
        HttpStatusCode.ServiceUnavailable => "Service Unavailable",
        _ => code.ToString(),
    };

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        Stream stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[Math.Min(limit, 64 * 1024)];
            using var result = new MemoryStream();
            while (result.Length < limit)
            {
                int want = (int)Math.Min(buffer.Length, limit - result.Length);
                int n = await stream.ReadAsync(buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                result.Write(buffer, 0, n);
            }

            return result.ToArray();
        }
    }

    /// <summary>The messages of an exception and its causes, without .NET's "see inner exception" pointers.</summary>
    private static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            string m = SeeInner().Replace(x.Message, "").Trim().TrimEnd('.', ',').Trim();
            if (m.Length > 0 && !parts.Any(p => p.Contains(m, StringComparison.Ordinal)))
            {
                parts.Add(m);
            }
        }

        return parts.Count == 0 ? e.GetType().Name : string.Join(": ", parts);
    }

    /// <summary>One line, at most 1000 characters, with the user information of any URL masked.</summary>
    internal static string Sanitize(string message)
    {
        string oneLine = LineBreaks().Replace(message, " ");
        string masked = UserInfo().Replace(oneLine, "${scheme}://xxxxx@");
        return masked.Length <= 1000 ? masked : masked[..1000] + "...";
    }

    [GeneratedRegex(@"[,;]?\s*see (the )?inner exception( for details)?\.?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SeeInner();

    [GeneratedRegex(@"[\r\n\t]+", RegexOptions.CultureInvariant)]
    private static partial Regex LineBreaks();

    [GeneratedRegex(@"(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://[^/?#@\s""']+@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfo();
}

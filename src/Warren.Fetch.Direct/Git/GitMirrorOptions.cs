namespace Warren.Fetch.Direct.Git;

/// <summary>A user name and password (or token) for one host. <see cref="ToString"/> never shows the password.</summary>
public sealed record GitCredential(string Username, string Password)
{
    /// <summary>A token used as the password. Hosting services accept any non-empty user name with a personal access
    /// token; "oauth2" also works where an OAuth token is given (GitLab).</summary>
    public static GitCredential FromToken(string token, string username = "oauth2") => new(username, token);

    public override string ToString() => $"GitCredential {{ Username = {Username}, Password = *** }}";
}

/// <summary>How git reaches the network (<see cref="HardenedGit"/>): credentials, configuration, proxies, schemes.</summary>
public class GitNetworkOptions
{
    /// <summary>Credentials per host: the key is "host" or "host:port" (the latter wins), compared with the host git
    /// actually talks to (after url.&lt;base&gt;.insteadOf rewriting). They win over .netrc entries.</summary>
    public IReadOnlyDictionary<string, GitCredential> Credentials { get; init; } = new Dictionary<string, GitCredential>();

    /// <summary>Read credentials from a .netrc file (like the go command: NETRC, else ~/.netrc).</summary>
    public bool UseNetrc { get; init; } = true;

    /// <summary>The .netrc file; null means the NETRC environment variable, else ~/.netrc.</summary>
    public string? NetrcPath { get; init; }

    /// <summary>Send credentials over plain http too. Off by default: basic authentication over http gives the secret to
    /// anyone on the path. (Tests serving on 127.0.0.1 turn it on.)</summary>
    public bool AllowCredentialsOverHttp { get; init; }

    /// <summary>git's global configuration (GIT_CONFIG_GLOBAL), e.g. url.&lt;base&gt;.insteadOf and http.* settings chosen
    /// by the operator; null means an empty file in <see cref="PrivateHome"/>. The user's ~/.gitconfig is never read.</summary>
    public string? GitConfigGlobal { get; init; }

    /// <summary>Ignore the system git configuration (GIT_CONFIG_NOSYSTEM=1); on by default.</summary>
    public bool IgnoreSystemGitConfig { get; init; } = true;

    /// <summary>The empty, private HOME of git children (mode 700, emptied when a <see cref="HardenedGit"/> is made), so
    /// neither git nor libcurl reads the user's ~/.gitconfig, ~/.config/git or ~/.netrc. Null means a directory of
    /// its own: a temporary directory made once per process (Warren's server gives "&lt;store&gt;/.warren/home").</summary>
    public string? PrivateHome { get; init; }

    /// <summary>Proxy for http URLs (given to git as http_proxy, the only spelling libcurl reads for http, and
    /// HTTP_PROXY); null: none. The proxy variables of this process are never passed through: a caller that honours
    /// them reads them itself and gives them here.</summary>
    public string? HttpProxy { get; init; }

    /// <summary>Proxy for https URLs (https_proxy and HTTPS_PROXY); null: none.</summary>
    public string? HttpsProxy { get; init; }

    /// <summary>Hosts reached without the proxy (no_proxy and NO_PROXY); null: none.</summary>
    public string? NoProxy { get; init; }

    /// <summary>URL schemes git may use (GIT_ALLOW_PROTOCOL); "ext" and friends stay forbidden. Add "file" for local
    /// repositories.</summary>
    public IReadOnlyCollection<string> AllowedSchemes { get; init; } = ["https", "http", "ssh", "git"];

    /// <summary>The outbound policy every remote git contacts must pass (resolved, checked and pinned; see
    /// <see cref="Egress.GitEgress"/>); null applies none. Redirects are never followed either way.</summary>
    public Egress.EgressPolicy? EgressPolicy { get; init; }
}

/// <summary>Settings of <see cref="GitMirrorManager"/>.</summary>
public sealed class GitMirrorOptions : GitNetworkOptions
{
    /// <summary>The directory holding one bare mirror per repository URL (e.g. &lt;store&gt;/.warren/git).</summary>
    public required string MirrorRoot { get; init; }

    /// <summary>A refresh is skipped when the last successful one is younger than this (unless forced).</summary>
    public TimeSpan FreshnessWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>At most this many git network operations (ls-remote, fetch) run at once against one host.</summary>
    public int MaxConcurrentOperationsPerHost { get; init; } = 4;

    /// <summary>The time limit of one git invocation.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromMinutes(5);

    // --- Resource limits ---

    /// <summary>The clock for last-use times, idleness and remembered refusals.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Disk quota of all mirrors; <see cref="GitMirrorManager.PruneAsync"/> deletes the least recently used
    /// mirrors not in use until the rest fit. Null: no quota.</summary>
    public long? QuotaBytes { get; init; }

    /// <summary>Mirrors unused for this long are deleted by <see cref="GitMirrorManager.PruneAsync"/>. Null: kept.</summary>
    public TimeSpan? MaxIdle { get; init; }

    /// <summary>A repository whose mirror grows larger than this after a clone or fetch is refused (its mirror
    /// deleted). Null: no limit.</summary>
    public long? MaxRepositoryBytes { get; init; }

    /// <summary>How long a refusal for size is remembered before the repository is tried again.</summary>
    public TimeSpan RefusalMemory { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a request waits for a new mirror before it reads a shallow copy instead (single refs fetched with
    /// depth 1, as the go command fetches a tag; see <see cref="GitMirrorManager.EnsureOrShallowAsync"/>). Null: always
    /// wait for the mirror.</summary>
    public TimeSpan? ShallowFirstAfter { get; init; }

    /// <summary>At most this many repositories are tracked in memory (idle ones are forgotten first; their mirrors stay).</summary>
    public int MaxTrackedRepositories { get; init; } = 10_000;
}

using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Discovery;

/// <summary>Settings for <see cref="RepoDiscovery"/>.</summary>
public sealed class RepoDiscoveryOptions
{
    /// <summary>GOINSECURE: comma-separated globs (module.MatchPrefixPatterns). For a matching module path, a failed
    /// https ?go-get=1 query is retried over plain http, and plain-http (or git://) repository URLs are accepted.</summary>
    public string GoInsecure { get; init; } = "";

    /// <summary>Time limit for one ?go-get=1 request (headers and body).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time limit for the https attempt when the path matches GOINSECURE, so that the http retry comes
    /// sooner (the go command's "impatient" client uses 5 seconds). The smaller of this and Timeout applies.</summary>
    public TimeSpan InsecureHttpsTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>At most this many bytes of a ?go-get=1 response are read; the rest is ignored (go-import tags belong
    /// in the page's head).</summary>
    public int MaxResponseBytes { get; init; } = 1 << 20;

    /// <summary>How long a successful resolution is remembered; zero or less disables the cache.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The clock for the cache and the time limits.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>HTTP client for the https attempt of a GOINSECURE path; the go command skips certificate verification
    /// there. Null means the main client (certificates verified; a failure still leads to the http retry).</summary>
    public HttpClient? InsecureHttpsClient { get; init; }

    /// <summary>For "host/path/repo.git/..." paths the go command probes schemes with `git ls-remote SCHEME://REPO`
    /// (https, git+ssh, ssh; under GOINSECURE also git and http) and takes the first that answers. This replaces the
    /// probe: given the candidate URL, true if it is usable. Null runs git through <see cref="Git"/>.</summary>
    public Func<string, CancellationToken, Task<bool>>? PingRepository { get; init; }

    /// <summary>Runs git for the default scheme probe when <see cref="HardenedGit"/> is null (hardened with default
    /// settings); null means a new <see cref="GitRunner"/>.</summary>
    public GitRunner? Git { get; init; }

    /// <summary>The hardened git (shared with the mirrors: same private home, configuration and credentials) that runs
    /// the scheme probe; null builds one with default settings over <see cref="Git"/>.</summary>
    public HardenedGit? HardenedGit { get; init; }

    /// <summary>Time limit for one scheme probe.</summary>
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>GIT_ALLOW_PROTOCOL (colon-separated schemes): when set, the git URL schemes that count as secure;
    /// otherwise https, ssh, git+ssh (and bzr+ssh, svn+ssh).</summary>
    public string? GitAllowProtocol { get; init; }

    // --- Resource limits ---

    /// <summary>At most this many resolutions are remembered (the least recently used go first).</summary>
    public int CacheMaxEntries { get; init; } = 10_000;

    /// <summary>A process-wide limit on concurrent outbound fetches that ?go-get=1 requests share (null: none).</summary>
    public Warren.Core.Limits.ConcurrencyGate? FetchGate { get; init; }
}

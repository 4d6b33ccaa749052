using System.Collections.ObjectModel;

namespace Warren.Server.Configuration;

/// <summary>The mutable form of <see cref="WarrenOptions"/>, used only while start-up gathers the settings (binding,
/// flags, the environment hook); <see cref="Build"/> freezes it. Same property names as the options.</summary>
public sealed class WarrenOptionsBuilder
{
    /// <summary>HOST:PORT to listen on.</summary>
    public string Listen { get; set; } = "127.0.0.1:3000";

    /// <summary>Store root; null means the user cache directory's "warren/download".</summary>
    public string? Root { get; set; }

    /// <summary>GOPROXY-syntax upstream chain; null means the server's GOPROXY, then the go command's default.</summary>
    public string? Upstream { get; set; }

    /// <summary>GOSUMDB syntax ("NAME[+KEY] [URL]" or "off"); null means the server's GOSUMDB, then sum.golang.org.</summary>
    public string? SumDb { get; set; }

    /// <summary>The signer key file ("NAME.signer", from `warren sumdb keygen`) of the checksum database this server
    /// hosts under /sumdb/NAME/; null hosts none.</summary>
    public string? HostedSumDb { get; set; }

    /// <summary>GOPRIVATE-style globs restricting which modules the hosted checksum database logs; empty logs every
    /// module that is not skipped by <see cref="SumDbPolicy"/>.</summary>
    public string? HostedSumDbPatterns { get; set; }

    /// <summary>Per-pattern verification, "GLOBS=MODE;GLOBS=MODE", first match wins; MODE is "sumdb" (the configured
    /// checksum database), "hosted" (the hosted one: trust on first use, then never changed) or "skip". Modules no
    /// entry matches: no-sumdb/private ones are "hosted" when a database is hosted, else "skip"; others "sumdb" (or
    /// "hosted"/"skip" when the sumdb is off).</summary>
    public string? SumDbPolicy { get; set; }

    /// <summary>GOPRIVATE globs.</summary>
    public string? Private { get; set; }

    /// <summary>GONOPROXY globs; null means Private.</summary>
    public string? NoProxy { get; set; }

    /// <summary>GONOSUMDB globs; null means Private.</summary>
    public string? NoSumDb { get; set; }

    /// <summary>HTTP proxy for Warren's own outbound requests (upstreams, go-get discovery, git); null means $HTTPS_PROXY/$HTTP_PROXY.</summary>
    public string? OutboundProxy { get; set; }

    /// <summary>Hosts reached without the outbound proxy (NO_PROXY syntax); null means $NO_PROXY.</summary>
    public string? OutboundProxyBypass { get; set; }

    /// <summary>GOINSECURE globs: module paths whose discovery and repositories may use plain http.</summary>
    public string? GoInsecure { get; set; }

    /// <summary>Credentials for git hosts in direct mode: host (or host:port) → "user:password", or a bare token.
    /// Give them in appsettings.json or WARREN_GITCREDENTIALS__HOST variables, never as flags (flags show in process lists).</summary>
    public Dictionary<string, string> GitCredentials { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Send git credentials over plain http too (only for hosts you trust on a private network); https only by default.</summary>
    public bool GitCredentialsOverHttp { get; set; }

    /// <summary>A .netrc file for git hosts and upstream proxies ("machine" entries; "default" is never used); null means
    /// $NETRC, then ~/.netrc.</summary>
    public string? Netrc { get; set; }

    /// <summary>The only global git configuration git children read (url.insteadOf and the like); null means an empty one.
    /// The user's ~/.gitconfig is never read: git runs with a private HOME under the store.</summary>
    public string? GitConfig { get; set; }

    /// <summary>Limit for one git operation (clone, fetch, archive).</summary>
    public TimeSpan GitTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Concurrent git network operations per host.</summary>
    public int GitHostConcurrency { get; set; } = 4;

    /// <summary>How long a mirror counts as fresh before list/@latest/queries check the origin again.</summary>
    public TimeSpan GitFreshness { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>See <see cref="WarrenOptions.GitShallowAfter"/>.</summary>
    public TimeSpan GitShallowAfter { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>See <see cref="WarrenOptions.Prefetch"/>.</summary>
    public string Prefetch { get; set; } = "direct";

    /// <summary>See <see cref="WarrenOptions.StreamFetchedZips"/>.</summary>
    public string StreamFetchedZips { get; set; } = WarrenOptions.DefaultStreamFetchedZips;

    /// <summary>How long an upstream `list`, `@latest` or sumdb `latest` answer is fresh.</summary>
    public TimeSpan ListTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a "not found" from every source is remembered.</summary>
    public TimeSpan NegativeTtl { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Limit for one upstream request (connect to last byte).</summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Connect timeout for upstream requests.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Consecutive failures (no connection, a 5xx, a timeout) after which an upstream proxy's circuit breaker
    /// opens: it is passed over at once, and probed in the background until it answers. 0 turns the breakers off.</summary>
    public int UpstreamFailures { get; set; } = 5;

    /// <summary>How long an open breaker waits before its first probe; each failed probe doubles it, up to 32 times this.</summary>
    public TimeSpan UpstreamCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>max-age of immutable artifacts (.info, .mod, .zip of canonical versions, sumdb tiles and lookups).</summary>
    public TimeSpan ImmutableMaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>fsync artifacts before they become visible (survives power loss, not only a killed process).</summary>
    public bool Fsync { get; set; } = true;

    // --- Scale-out storage (several nodes on one bucket and one database) ---

    /// <summary>Where modules are stored: null for the file store under <see cref="Root"/>, or s3://BUCKET/PREFIX.</summary>
    public string? Store { get; set; }

    /// <summary>The S3 endpoint URL (MinIO, Ceph RGW, R2 …); null for AWS.</summary>
    public string? S3Endpoint { get; set; }

    /// <summary>The S3 region; null for the SDK's default.</summary>
    public string? S3Region { get; set; }

    /// <summary>Path-style S3 addressing (most S3-compatible servers want it).</summary>
    public bool S3PathStyle { get; set; }

    /// <summary>Answer zip requests with a 302 to a short-lived presigned URL of the object.</summary>
    public bool S3Redirect { get; set; }

    /// <summary>The module index: null for SQLite under <see cref="Root"/>, or postgres://… / an Npgsql connection
    /// string (WARREN_INDEX keeps a password out of process lists).</summary>
    public string? Index { get; set; }

    /// <summary>How long a node's cluster lease on a fetch lasts unless renewed (it renews every third of it): how long
    /// the other nodes wait before taking over from a node that died.</summary>
    public TimeSpan ClusterLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    // --- The Go vulnerability database mirror ---

    /// <summary>https://… (default https://vuln.go.dev), file:///DIR or "off".</summary>
    public string? VulnDb { get; set; }

    /// <summary>How often the vulnerability database is checked for a new copy.</summary>
    public TimeSpan VulnDbInterval { get; set; } = TimeSpan.FromHours(1);

    // --- Following another node's index feed ---

    /// <summary>An index feed to follow (another Warren's /index, or index.golang.org's): every new version matching
    /// <see cref="FollowPatterns"/> is fetched through the upstream chain before anyone asks. Null: none.</summary>
    public string? Follow { get; set; }

    /// <summary>GOPRIVATE-style globs of the module paths followed; required for a public feed. Null: every path.</summary>
    public string? FollowPatterns { get; set; }

    /// <summary>How often the feed is polled.</summary>
    public TimeSpan FollowInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Versions fetched at once while following.</summary>
    public int FollowConcurrency { get; set; } = 4;

    /// <summary>The most bytes per second following may fetch ("10M"); null: no limit.</summary>
    public string? FollowRate { get; set; }

    // --- Download modes ---

    /// <summary>Per-pattern download modes, "GLOBS=MODE;GLOBS=MODE", first match wins, sync where none matches: what
    /// happens when a client asks for a version the store lacks (sync, async, redirect, async_redirect, none, offline;
    /// see <see cref="Ingest.DownloadMode"/>). Null: sync for every path.</summary>
    public string? DownloadMode { get; set; }

    // --- Access control (client authentication and authorization) ---

    /// <summary>The auth file (principals with hashed tokens, grants, admin flag, expiry); null leaves access control off.</summary>
    public string? AuthFile { get; set; }

    /// <summary>GOPRIVATE-style patterns readable without a token when an auth file is given; empty by default.</summary>
    public string? Anonymous { get; set; }

    /// <summary>HOST:PORT of a second listener serving /metrics (and nothing else) without a token; null serves /metrics
    /// on the main listener to admin tokens only (or to everyone when there is no auth file).</summary>
    public string? AdminListen { get; set; }

    /// <summary>GOPRIVATE-style patterns whose modules are served only to clients whose Basic password can read the
    /// origin repository (checked with git ls-remote).</summary>
    public string? AuthorizeByOrigin { get; set; }

    /// <summary>How long one origin authorization decision (credential hash, repository) is remembered.</summary>
    public TimeSpan OriginAuthzTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The access log (private artifacts served, refusals) logs each distinct (principal, module@version,
    /// artifact, status) at most once per this window, counting the identical events in between; zero logs every one.</summary>
    public TimeSpan AccessLogWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Requests per second each principal (or client IP when anonymous) may make; 0 turns the limit off.</summary>
    public double RateLimit { get; set; } = 500;

    /// <summary>Requests a principal may make at once above the steady rate.</summary>
    public int RateLimitBurst { get; set; } = 1000;

    // --- Outbound policy ---

    /// <summary>Exceptions to the default denial of internal destinations: host names, IPs or CIDRs, each optionally
    /// ":PORT" (IPv6 in brackets), comma-separated.</summary>
    public string? EgressAllow { get; set; }

    /// <summary>More destinations to deny, same syntax as <see cref="EgressAllow"/>.</summary>
    public string? EgressDeny { get; set; }

    /// <summary>GOPRIVATE-style patterns of the module paths that may use direct mode; null means every path.</summary>
    public string? Direct { get; set; }

    // --- Resource limits ---

    /// <summary>Concurrent outbound HTTP fetches (upstream proxies, discovery, sumdb) across all hosts.</summary>
    public int MaxConcurrentFetches { get; set; } = 64;

    /// <summary>Concurrent git processes across all repositories.</summary>
    public int MaxGitProcesses { get; set; } = 16;

    // --- Upstream credentials ---

    /// <summary>Send upstream credentials (user:password in an http:// upstream URL, .netrc entries for an http upstream
    /// the operator configured) over plain http too; https only by default, as the go command does.</summary>
    public bool UpstreamCredentialsOverHttp { get; set; }

    // --- Resource limits: memory caches and the index's cached answers ---

    /// <summary>Bytes of small artifacts (.info, .mod) kept in memory; list/@latest answers get a quarter of this again.</summary>
    public long MemoryCacheBytes { get; set; } = 64L << 20;

    /// <summary>Entries each in-memory cache (small artifacts, answers, "not found", discovery) holds at most.</summary>
    public int MemoryCacheEntries { get; set; } = 100_000;

    /// <summary>Stored zip files kept open for fast serving.</summary>
    public int OpenFiles { get; set; } = 512;

    /// <summary>Cached list/@latest/query/sumdb-latest answers older than this are deleted from the index (they serve as
    /// the stale copy while upstream fails, so keep them longer than ListTtl).</summary>
    public TimeSpan AnswersMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>At most this many cached answers stay in the index (the most recently fetched).</summary>
    public int AnswersMaxCount { get; set; } = 100_000;

    /// <summary>How often the index's answers and the git mirrors are pruned.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(10);

    // --- mirror limits ---

    /// <summary>Disk quota of the git mirrors ("20G", "500M", bytes); over it, the least recently used idle mirrors are
    /// deleted. Null: no quota.</summary>
    public string? MirrorQuota { get; set; }

    public string? LocalCache { get; set; }

    /// <summary>Mirrors unused for this long are deleted; null keeps them (unless the quota needs the room).</summary>
    public TimeSpan? MirrorMaxIdle { get; set; }

    /// <summary>Repositories larger than this ("2G", "500M", bytes) are refused and their mirror deleted. Null: no limit.</summary>
    public string? MaxRepoSize { get; set; }

    // --- air-gapped sites ---

    /// <summary>Serve only what is stored (imported bundles included): no upstream, origin or checksum database is
    /// contacted, and a miss is a 404 saying the module is not in this offline mirror.</summary>
    public bool Offline { get; set; }

    // --- retention ---

    /// <summary>Quota of the store's module files ("50G", "500MB", bytes); see <see cref="WarrenOptions.StoreQuota"/>.</summary>
    public string? StoreQuota { get; set; }

    /// <summary>How often per-version usage is written to the index.</summary>
    public TimeSpan UsageFlushInterval { get; set; } = TimeSpan.FromSeconds(30);

    // --- who is affected (download records, impact, alert webhook) ---

    /// <summary>How long download records are kept ("400d", "12w", a TimeSpan); null: 400 days.</summary>
    public string? DownloadRetention { get; set; }

    /// <summary>Where an event is POSTed when a vulnerability database refresh brings an advisory affecting a version
    /// downloaded within the retention window (http or https; subject to the egress policy); null: no webhook.</summary>
    public string? AlertWebhook { get; set; }

    /// <summary>This node's name in download records; null: the machine's host name.</summary>
    public string? NodeName { get; set; }

    // --- policy at the proxy ---

    /// <summary>The policy file; see <see cref="WarrenOptions.PolicyFile"/>. Not named Policy: "Warren:Policy" may be an
    /// object (the inline policy), which the binder cannot put in a string; its string form is read by the policy services.</summary>
    public string? PolicyFile { get; set; }

    /// <summary>The path of the policy object inside <see cref="Policy"/>; see <see cref="WarrenOptions.PolicySection"/>.</summary>
    public string? PolicySection { get; set; }

    /// <summary>See <see cref="WarrenOptions.PolicyInline"/>.</summary>
    public string? PolicyInline { get; set; }

    /// <summary>How often the policy file is checked for changes besides the watcher.</summary>
    public TimeSpan PolicyPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The proxy variables of the environment; null until <see cref="GoEnvironment.ApplyDefaults"/> reads them.</summary>
    public ProxyEnvironment? EnvironmentProxies { get; set; }

    /// <summary>Where traces are exported; null until <see cref="GoEnvironment.ApplyDefaults"/> reads the OTEL_* variables.</summary>
    public Observability.TracingSettings? Tracing { get; set; }

    /// <summary>The immutable options (a copy: changing the builder afterwards changes nothing built).</summary>
    public WarrenOptions Build() => new()
    {
        Listen = Listen,
        Root = Root,
        Upstream = Offline ? "off" : Upstream,
        SumDb = SumDb,
        HostedSumDb = HostedSumDb,
        HostedSumDbPatterns = HostedSumDbPatterns,
        SumDbPolicy = SumDbPolicy,
        Private = Private,
        NoProxy = NoProxy,
        NoSumDb = NoSumDb,
        OutboundProxy = OutboundProxy,
        OutboundProxyBypass = OutboundProxyBypass,
        GoInsecure = GoInsecure,
        GitCredentials = new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(GitCredentials, StringComparer.OrdinalIgnoreCase)),
        GitCredentialsOverHttp = GitCredentialsOverHttp,
        Netrc = Netrc,
        GitConfig = GitConfig,
        GitTimeout = GitTimeout,
        GitHostConcurrency = GitHostConcurrency,
        GitFreshness = GitFreshness,
        GitShallowAfter = GitShallowAfter,
        Prefetch = Prefetch,
        StreamFetchedZips = StreamFetchedZips,
        ListTtl = ListTtl,
        NegativeTtl = NegativeTtl,
        UpstreamTimeout = UpstreamTimeout,
        ConnectTimeout = ConnectTimeout,
        UpstreamFailures = UpstreamFailures,
        UpstreamCooldown = UpstreamCooldown,
        ImmutableMaxAge = ImmutableMaxAge,
        Fsync = Fsync,
        Store = Store,
        S3Endpoint = S3Endpoint,
        S3Region = S3Region,
        S3PathStyle = S3PathStyle,
        S3Redirect = S3Redirect,
        Index = Index,
        ClusterLeaseDuration = ClusterLeaseDuration,
        VulnDb = string.IsNullOrWhiteSpace(VulnDb) ? WarrenOptions.VulnDbDefault : VulnDb.Trim(),
        VulnDbInterval = VulnDbInterval,
        Follow = Follow,
        FollowPatterns = FollowPatterns,
        FollowInterval = FollowInterval,
        FollowConcurrency = FollowConcurrency,
        FollowRate = FollowRate,
        DownloadMode = DownloadMode,
        AuthFile = AuthFile,
        Anonymous = Anonymous,
        AdminListen = AdminListen,
        AuthorizeByOrigin = AuthorizeByOrigin,
        OriginAuthzTtl = OriginAuthzTtl,
        AccessLogWindow = AccessLogWindow,
        RateLimit = RateLimit,
        RateLimitBurst = RateLimitBurst,
        EgressAllow = EgressAllow,
        EgressDeny = EgressDeny,
        Direct = Direct,
        MaxConcurrentFetches = MaxConcurrentFetches,
        MaxGitProcesses = MaxGitProcesses,
        UpstreamCredentialsOverHttp = UpstreamCredentialsOverHttp,
        MemoryCacheBytes = MemoryCacheBytes,
        MemoryCacheEntries = MemoryCacheEntries,
        OpenFiles = OpenFiles,
        AnswersMaxAge = AnswersMaxAge,
        AnswersMaxCount = AnswersMaxCount,
        MaintenanceInterval = MaintenanceInterval,
        MirrorQuota = MirrorQuota,
        LocalCache = LocalCache,
        MirrorMaxIdle = MirrorMaxIdle,
        MaxRepoSize = MaxRepoSize,
        Offline = Offline,
        StoreQuota = StoreQuota,
        UsageFlushInterval = UsageFlushInterval,
        DownloadRetention = DownloadRetention,
        AlertWebhook = AlertWebhook,
        NodeName = NodeName,
        PolicyFile = PolicyFile,
        PolicySection = PolicySection,
        PolicyInline = PolicyInline,
        PolicyPollInterval = PolicyPollInterval,
        EnvironmentProxies = EnvironmentProxies ?? ProxyEnvironment.None,
        Tracing = Tracing ?? Observability.TracingSettings.Off,
    };
}

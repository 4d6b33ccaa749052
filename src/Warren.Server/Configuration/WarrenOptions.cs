using System.Globalization;
using Warren.Core.Limits;

namespace Warren.Server.Configuration;

/// <summary>Everything `warren serve` can be told, frozen at start-up: bound from appsettings.json ("Warren" section),
/// WARREN_* variables and flags into a <see cref="WarrenOptionsBuilder"/>, completed from the process environment
/// (<see cref="GoEnvironment"/>), then built into this record, which nothing changes afterwards. Values derived from
/// the text of an option (sizes, the Cache-Control of immutable answers) are computed once, when the option is set.</summary>
public sealed record WarrenOptions
{
    private static readonly TimeSpan DefaultImmutableMaxAge = TimeSpan.FromDays(365);

    /// <summary>HOST:PORT to listen on.</summary>
    public string Listen { get; init; } = "127.0.0.1:3000";

    /// <summary>Store root; null means the user cache directory's "warren/download".</summary>
    public string? Root { get; init; }

    /// <summary>GOPROXY-syntax upstream chain; null means the server's GOPROXY, then the go command's default.</summary>
    public string? Upstream { get; init; }

    /// <summary>GOSUMDB syntax ("NAME[+KEY] [URL]" or "off"); null means the server's GOSUMDB, then sum.golang.org.</summary>
    public string? SumDb { get; init; }

    /// <summary>The signer key file ("NAME.signer", from `warren sumdb keygen`) of the checksum database this server
    /// hosts under /sumdb/NAME/; null hosts none.</summary>
    public string? HostedSumDb { get; init; }

    /// <summary>GOPRIVATE-style globs restricting which modules the hosted checksum database logs; empty logs every
    /// module that is not skipped by <see cref="SumDbPolicy"/>.</summary>
    public string? HostedSumDbPatterns { get; init; }

    /// <summary>Per-pattern verification, "GLOBS=MODE;GLOBS=MODE", first match wins; MODE is "sumdb" (the configured
    /// checksum database), "hosted" (the hosted one: trust on first use, then never changed) or "skip". Modules no
    /// entry matches: no-sumdb/private ones are "hosted" when a database is hosted, else "skip"; others "sumdb" (or
    /// "hosted"/"skip" when the sumdb is off).</summary>
    public string? SumDbPolicy { get; init; }

    /// <summary>GOPRIVATE globs.</summary>
    public string? Private { get; init; }

    /// <summary>GONOPROXY globs; null means Private.</summary>
    public string? NoProxy { get; init; }

    /// <summary>GONOSUMDB globs; null means Private.</summary>
    public string? NoSumDb { get; init; }

    /// <summary>HTTP proxy for Warren's own outbound requests (upstreams, go-get discovery, git); null means $HTTPS_PROXY/$HTTP_PROXY.</summary>
    public string? OutboundProxy { get; init; }

    /// <summary>Hosts reached without the outbound proxy (NO_PROXY syntax); null means $NO_PROXY.</summary>
    public string? OutboundProxyBypass { get; init; }

    /// <summary>The proxy variables of the process environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY), read
    /// once at start-up by <see cref="GoEnvironment.ApplyDefaults"/>; used where no <see cref="OutboundProxy"/> is set.</summary>
    public ProxyEnvironment EnvironmentProxies { get; init; } = ProxyEnvironment.None;

    /// <summary>Where traces are exported (the OTEL_* variables, read once at start-up by <see cref="GoEnvironment.ApplyDefaults"/>); off by default.</summary>
    public Observability.TracingSettings Tracing { get; init; } = Observability.TracingSettings.Off;

    /// <summary>GOINSECURE globs: module paths whose discovery and repositories may use plain http.</summary>
    public string? GoInsecure { get; init; }

    /// <summary>Credentials for git hosts in direct mode: host (or host:port) → "user:password", or a bare token.
    /// Give them in appsettings.json or WARREN_GITCREDENTIALS__HOST variables, never as flags (flags show in process lists).</summary>
    public IReadOnlyDictionary<string, string> GitCredentials { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Send git credentials over plain http too (only for hosts you trust on a private network); https only by default.</summary>
    public bool GitCredentialsOverHttp { get; init; }

    /// <summary>A .netrc file for git hosts and upstream proxies ("machine" entries; "default" is never used); null means
    /// $NETRC, then ~/.netrc.</summary>
    public string? Netrc { get; init; }

    /// <summary>The only global git configuration git children read (url.insteadOf and the like); null means an empty one.
    /// The user's ~/.gitconfig is never read: git runs with a private HOME under the store.</summary>
    public string? GitConfig { get; init; }

    /// <summary>Limit for one git operation (clone, fetch, archive).</summary>
    public TimeSpan GitTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Concurrent git network operations per host.</summary>
    public int GitHostConcurrency { get; init; } = 4;

    /// <summary>How long a mirror counts as fresh before list/@latest/queries check the origin again.</summary>
    public TimeSpan GitFreshness { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a version's first request waits for a new git mirror before it is answered from a depth-1
    /// fetch of the refs it needs (the rest of the history is still mirrored, in the background). Zero: at once; at least
    /// <see cref="GitTimeout"/>: never.</summary>
    public TimeSpan GitShallowAfter { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Which fetched .info files lead to the version's .mod and .zip being fetched in the background (through the
    /// normal flights and checks), since the go command asks for them next: "direct" (made by direct mode, from the
    /// local mirror), "all" (from any upstream: zips that may not be wanted cost upstream bandwidth) or "off".</summary>
    public string Prefetch { get; init; } = "direct";

    /// <summary><see cref="Prefetch"/> parsed; null when it is not a known value (the validator says so).</summary>
    public Ingest.PrefetchMode? PrefetchMode => Prefetch.Trim().ToLowerInvariant() switch
    {
        "off" => Ingest.PrefetchMode.Off,
        "direct" => Ingest.PrefetchMode.Direct,
        "all" => Ingest.PrefetchMode.All,
        _ => null,
    };

    /// <summary>Zips fetched from an upstream proxy whose declared size is at least this ("1M", bytes; "0": every one;
    /// "off": none; with no declared size, once that much has arrived) are sent to the client while they arrive, beside the staged copy that is checked and hashed; the
    /// last byte (or, without a declared size, the end of the chunked body) is sent only once the zip is verified and
    /// committed, and a zip that fails is cut short, so no client ever receives a complete body that was refused.
    /// Other requests for the same zip join the stream. A GET with a range or a condition waits for the stored zip.</summary>
    public string StreamFetchedZips
    {
        get;
        init => StreamFetchedZipsSize = ParseStreamSetting(field = value);
    } = DefaultStreamFetchedZips;

    /// <summary>The default of <see cref="StreamFetchedZips"/>.</summary>
    public const string DefaultStreamFetchedZips = "1M";

    /// <summary><see cref="StreamFetchedZips"/> parsed: Bytes null when off.</summary>
    public SizeSetting StreamFetchedZipsSize { get; private init; } = ParseStreamSetting(DefaultStreamFetchedZips);

    private static SizeSetting ParseStreamSetting(string? text) =>
        text is null || text.Trim().Equals("off", StringComparison.OrdinalIgnoreCase) ? default : SizeSetting.Parse(text);

    /// <summary>How long an upstream `list`, `@latest` or sumdb `latest` answer is fresh.</summary>
    public TimeSpan ListTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a "not found" from every source is remembered.</summary>
    public TimeSpan NegativeTtl { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Limit for one upstream request (connect to last byte).</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Connect timeout for upstream requests.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Consecutive failures (no connection, a 5xx, a timeout) after which an upstream proxy's circuit breaker
    /// opens: it is passed over at once, and probed in the background until it answers. 0 turns the breakers off.</summary>
    public int UpstreamFailures { get; init; } = 5;

    /// <summary>How long an open breaker waits before its first probe; each failed probe doubles it, up to 32 times this.</summary>
    public TimeSpan UpstreamCooldown { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>max-age of immutable artifacts (.info, .mod, .zip of canonical versions, sumdb tiles and lookups).</summary>
    public TimeSpan ImmutableMaxAge
    {
        get;
        init
        {
            field = value;
            ImmutableCacheControl = CacheControlFor(value);
        }
    } = DefaultImmutableMaxAge;

    /// <summary>The Cache-Control value of immutable answers (from <see cref="ImmutableMaxAge"/>).</summary>
    public string ImmutableCacheControl { get; private init; } = CacheControlFor(DefaultImmutableMaxAge);

    /// <summary>fsync artifacts before they become visible (survives power loss, not only a killed process).</summary>
    public bool Fsync { get; init; } = true;

    // --- Scale-out storage (several nodes on one bucket and one database) ---

    /// <summary>Where modules are stored: null for the file store under <see cref="Root"/>, or s3://BUCKET/PREFIX.</summary>
    public string? Store { get; init; }

    /// <summary>The S3 endpoint URL (MinIO, Ceph RGW, R2 …); null for AWS.</summary>
    public string? S3Endpoint { get; init; }

    /// <summary>The S3 region; null for the SDK's default.</summary>
    public string? S3Region { get; init; }

    /// <summary>Path-style S3 addressing (most S3-compatible servers want it).</summary>
    public bool S3PathStyle { get; init; }

    /// <summary>Answer zip requests with a 302 to a short-lived presigned URL of the object.</summary>
    public bool S3Redirect { get; init; }

    /// <summary>The module index: null for SQLite under <see cref="Root"/>, or postgres://… / an Npgsql connection
    /// string (WARREN_INDEX keeps a password out of process lists).</summary>
    public string? Index { get; init; }

    /// <summary>How long a node's cluster lease on a fetch lasts unless renewed (it renews every third of it): how long
    /// the other nodes wait before taking over from a node that died.</summary>
    public TimeSpan ClusterLeaseDuration { get; init; } = TimeSpan.FromSeconds(30);

    // --- The Go vulnerability database mirror ---

    /// <summary>Where the vulnerability database mirrored under /vuln/ comes from: an http(s) URL of a database in the
    /// current layout (default https://vuln.go.dev), file:///DIR (a directory in that layout, or a vulndb.zip), or "off".</summary>
    public string VulnDb { get; init; } = VulnDbDefault;

    /// <summary>How often the vulnerability database is checked for a new copy (conditional requests).</summary>
    public TimeSpan VulnDbInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The public Go vulnerability database.</summary>
    public const string VulnDbDefault = "https://vuln.go.dev";

    // --- Following another node's index feed ---

    /// <summary>An index feed to follow (another Warren's /index, or index.golang.org's): every new version matching
    /// <see cref="FollowPatterns"/> is fetched through the upstream chain before anyone asks. Null: none.</summary>
    public string? Follow { get; init; }

    /// <summary>GOPRIVATE-style globs of the module paths followed; required for a public feed. Null: every path.</summary>
    public string? FollowPatterns { get; init; }

    /// <summary>How often the feed is polled.</summary>
    public TimeSpan FollowInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Versions fetched at once while following.</summary>
    public int FollowConcurrency { get; init; } = 4;

    /// <summary>The most bytes per second following may fetch ("10M"); null: no limit.</summary>
    public string? FollowRate { get; init; }

    // --- Download modes ---

    /// <summary>Per-pattern download modes, "GLOBS=MODE;GLOBS=MODE", first match wins, sync where none matches: what
    /// happens when a client asks for a version the store lacks (sync, async, redirect, async_redirect, none, offline;
    /// see <see cref="Ingest.DownloadMode"/>). Null: sync for every path.</summary>
    public string? DownloadMode { get; init; }

    // --- Access control (client authentication and authorization) ---

    /// <summary>The auth file (principals with hashed tokens, grants, admin flag, expiry); null leaves access control off.</summary>
    public string? AuthFile { get; init; }

    /// <summary>GOPRIVATE-style patterns readable without a token when an auth file is given; empty by default.</summary>
    public string? Anonymous { get; init; }

    /// <summary>HOST:PORT of a second listener serving /metrics (and nothing else) without a token; null serves /metrics
    /// on the main listener to admin tokens only (or to everyone when there is no auth file).</summary>
    public string? AdminListen { get; init; }

    /// <summary>GOPRIVATE-style patterns whose modules are served only to clients whose Basic password can read the
    /// origin repository (checked with git ls-remote).</summary>
    public string? AuthorizeByOrigin { get; init; }

    /// <summary>How long one origin authorization decision (credential hash, repository) is remembered.</summary>
    public TimeSpan OriginAuthzTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The access log (private artifacts served, refusals) logs each distinct (principal, module@version,
    /// artifact, status) at most once per this window, counting the identical events in between; zero logs every one.</summary>
    public TimeSpan AccessLogWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Requests per second each principal (or client IP when anonymous) may make; 0 turns the limit off.</summary>
    public double RateLimit { get; init; } = 500;

    /// <summary>Requests a principal may make at once above the steady rate.</summary>
    public int RateLimitBurst { get; init; } = 1000;

    // --- Outbound policy ---

    /// <summary>Exceptions to the default denial of internal destinations: host names, IPs or CIDRs, each optionally
    /// ":PORT" (IPv6 in brackets), comma-separated.</summary>
    public string? EgressAllow { get; init; }

    /// <summary>More destinations to deny, same syntax as <see cref="EgressAllow"/>.</summary>
    public string? EgressDeny { get; init; }

    /// <summary>GOPRIVATE-style patterns of the module paths that may use direct mode; null means every path.</summary>
    public string? Direct { get; init; }

    // --- Resource limits ---

    /// <summary>Concurrent outbound HTTP fetches (upstream proxies, discovery, sumdb) across all hosts.</summary>
    public int MaxConcurrentFetches { get; init; } = 64;

    /// <summary>Concurrent git processes across all repositories.</summary>
    public int MaxGitProcesses { get; init; } = 16;

    // --- Upstream credentials ---

    /// <summary>Send upstream credentials (user:password in an http:// upstream URL, .netrc entries for an http upstream
    /// the operator configured) over plain http too; https only by default, as the go command does.</summary>
    public bool UpstreamCredentialsOverHttp { get; init; }

    // --- Resource limits: memory caches and the index's cached answers ---

    /// <summary>Bytes of small artifacts (.info, .mod) kept in memory; list/@latest answers get a quarter of this again.</summary>
    public long MemoryCacheBytes { get; init; } = 64L << 20;

    /// <summary>Entries each in-memory cache (small artifacts, answers, "not found", discovery) holds at most.</summary>
    public int MemoryCacheEntries { get; init; } = 100_000;

    /// <summary>Stored zip files kept open for fast serving.</summary>
    public int OpenFiles { get; init; } = 512;

    /// <summary>Cached list/@latest/query/sumdb-latest answers older than this are deleted from the index (they serve as
    /// the stale copy while upstream fails, so keep them longer than ListTtl).</summary>
    public TimeSpan AnswersMaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>At most this many cached answers stay in the index (the most recently fetched).</summary>
    public int AnswersMaxCount { get; init; } = 100_000;

    /// <summary>How often the index's answers and the git mirrors are pruned.</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMinutes(10);

    // --- mirror limits ---

    /// <summary>Disk quota of the git mirrors ("20G", "500M", bytes); over it, the least recently used idle mirrors are
    /// deleted. Null: no quota.</summary>
    public string? MirrorQuota
    {
        get;
        init => MirrorQuotaSize = SizeSetting.Parse(field = value);
    }

    /// <summary><see cref="MirrorQuota"/> parsed.</summary>
    public SizeSetting MirrorQuotaSize { get; private init; }

    /// <summary>Mirrors unused for this long are deleted; null keeps them (unless the quota needs the room).</summary>
    public TimeSpan? MirrorMaxIdle { get; init; }

    /// <summary>Repositories larger than this ("2G", "500M", bytes) are refused and their mirror deleted. Null: no limit.</summary>
    public string? MaxRepoSize
    {
        get;
        init => MaxRepoSizeSize = SizeSetting.Parse(field = value);
    }

    /// <summary><see cref="MaxRepoSize"/> parsed.</summary>
    public SizeSetting MaxRepoSizeSize { get; private init; }

    /// <summary>Disk budget of the node-local copies of zips read from object storage ("2G"; "0" turns it off); null for
    /// the default, <see cref="DefaultLocalCacheBytes"/>. Only a store without local files uses it.</summary>
    public string? LocalCache
    {
        get;
        init => LocalCacheSize = SizeSetting.Parse(field = value);
    }

    /// <summary><see cref="LocalCache"/> parsed.</summary>
    public SizeSetting LocalCacheSize { get; private init; }

    /// <summary>The local cache's budget when <see cref="LocalCache"/> is not given: 2 GiB.</summary>
    public const long DefaultLocalCacheBytes = 2L << 30;

    /// <summary>The local cache's budget in bytes (0: off).</summary>
    public long LocalCacheBytes => LocalCacheSize.Bytes ?? DefaultLocalCacheBytes;

    /// <summary>Serve only what is stored: no upstream, origin or checksum database is contacted (the upstream chain
    /// is "off"); a miss is a 404 saying the module is not in this offline mirror.</summary>
    public bool Offline { get; init; }

    // --- retention ---

    /// <summary>Quota of the store's module files ("50G", "500MB", bytes): above 90% of it, the least recently used versions
    /// not matching <see cref="Private"/> are evicted in the background down to 80% of it. Null: no quota.</summary>
    public string? StoreQuota
    {
        get;
        init => StoreQuotaSize = SizeSetting.Parse(field = value);
    }

    /// <summary><see cref="StoreQuota"/> parsed.</summary>
    public SizeSetting StoreQuotaSize { get; private init; }

    /// <summary>How often the per-version usage gathered in memory (last access, downloads) is written to the index.</summary>
    public TimeSpan UsageFlushInterval { get; init; } = TimeSpan.FromSeconds(30);

    // --- who is affected (download records, impact, alert webhook) ---

    /// <summary>How long download records (counts per version, client, node and day) are kept: "400d", "12w", a
    /// TimeSpan. Null: <see cref="DefaultDownloadRetention"/>.</summary>
    public string? DownloadRetention
    {
        get;
        init => DownloadRetentionPeriod = Warren.Core.Limits.DurationText.TryParse((field = value) ?? "400d", out var period, out _) ? period : DefaultDownloadRetention;
    }

    /// <summary>400 days.</summary>
    public static readonly TimeSpan DefaultDownloadRetention = TimeSpan.FromDays(400);

    /// <summary><see cref="DownloadRetention"/> parsed when it is set (the default when it does not parse; the validator
    /// reports it).</summary>
    public TimeSpan DownloadRetentionPeriod { get; private init; } = DefaultDownloadRetention;

    /// <summary>Where alert events are POSTed (http or https), subject to the egress policy; null: no webhook.</summary>
    public string? AlertWebhook { get; init; }

    /// <summary>This node's name in download records; null: the machine's host name.</summary>
    public string? NodeName { get; init; }

    // --- policy at the proxy ---

    /// <summary>The policy file (JSON: deny rules, an allow list, denyVulnerable, denyRetracted; see
    /// <see cref="Warren.Core.Policy.PolicyParser"/>), reloaded when it changes; null: no policy.</summary>
    public string? PolicyFile { get; init; }

    /// <summary>When set, the policy is the object at this ':'-separated path of <see cref="PolicyFile"/> (the "Warren:Policy"
    /// section of appsettings.json) instead of the whole file.</summary>
    public string? PolicySection { get; init; }

    /// <summary>An inline policy document given through configuration other than appsettings.json (environment
    /// variables); used when <see cref="PolicyFile"/> is null. It is not reloaded.</summary>
    public string? PolicyInline { get; init; }

    /// <summary>How often the policy file is checked for changes besides the file-system watcher.</summary>
    public TimeSpan PolicyPollInterval { get; init; } = TimeSpan.FromSeconds(2);

    private static string CacheControlFor(TimeSpan maxAge) =>
        "public, max-age=" + ((long)maxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture) + ", immutable";
}

/// <summary>A size option ("20G", "500M", bytes) as given, parsed once: Bytes when valid, Error when not, both null
/// when not given.</summary>
public readonly record struct SizeSetting(string? Text, long? Bytes, string? Error)
{
    public static SizeSetting Parse(string? text) =>
        text is null ? default
        : ByteSize.TryParse(text, out var bytes, out var error) ? new SizeSetting(text, bytes, null)
        : new SizeSetting(text, null, error);
}

/// <summary>The proxy variables of the environment, each as curl and Go read it (upper case, else lower case).</summary>
public sealed record ProxyEnvironment(string? HttpProxy, string? HttpsProxy, string? AllProxy, string? NoProxy)
{
    public static ProxyEnvironment None { get; } = new(null, null, null, null);
}

using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Warren.Fetch.Direct.Git;
using Warren.Server;
using Warren.Server.Configuration;
using Warren.WebConsole;

namespace Warren.Cli.Commands;

/// <summary>`warren serve`: run the GOPROXY server.</summary>
public sealed class ServeCommand : Command
{
    private readonly Option<string?> _listen = new("--listen") { Description = "HOST:PORT to listen on (default 127.0.0.1:3000)" };
    private readonly Option<string?> _root = new("--root") { Description = "store directory (default: the user cache directory's warren/download)" };
    private readonly Option<string?> _upstream = new("--upstream") { Description = "upstream chain in GOPROXY syntax, e.g. \"https://a,https://b|https://c,direct\" or off (default: $GOPROXY, then https://proxy.golang.org,direct)" };
    private readonly Option<string?> _sumdb = new("--sumdb") { Description = "checksum database every ingested module is verified against and /sumdb/ proxies, GOSUMDB syntax \"NAME[+KEY] [URL]\" or off (default: $GOSUMDB, then sum.golang.org)" };
    private readonly Option<string?> _hostedSumDb = new("--hosted-sumdb") { Description = "host a checksum database under /sumdb/NAME/, signed with this NAME.signer file (from warren sumdb keygen)" };
    private readonly Option<string?> _hostedPatterns = new("--hosted-sumdb-patterns") { Description = "GOPRIVATE-style patterns of the modules the hosted database logs (default: every module not skipped)" };
    private readonly Option<string?> _sumdbPolicy = new("--sumdb-policy") { Description = "per-pattern verification \"GLOBS=sumdb|hosted|skip;…\", first match wins (default: private/no-sumdb paths hosted or skipped, others sumdb)" };
    private readonly Option<string?> _private = new("--private") { Description = "GOPRIVATE-style patterns (default: $GOPRIVATE)" };
    private readonly Option<string?> _noProxy = new("--no-proxy") { Description = "GONOPROXY-style patterns: fetched directly, never from a proxy (default: $GONOPROXY, then --private)" };
    private readonly Option<string?> _noSumDb = new("--no-sumdb") { Description = "GONOSUMDB-style patterns (default: $GONOSUMDB, then --private)" };
    private readonly Option<string?> _streamFetchedZips = new("--stream-fetched-zips") { Description = "send zips of at least this size (e.g. 1M; 0: all; off: none) to the client while they are fetched from an upstream proxy; the last byte goes only once the zip is verified, and a zip that fails is cut short (default: " + WarrenOptions.DefaultStreamFetchedZips + ")" };
    private readonly Option<TimeSpan?> _listTtl = new("--list-ttl") { Description = "how long list and @latest answers are fresh (default 00:05:00)" };
    private readonly Option<TimeSpan?> _negativeTtl = new("--negative-ttl") { Description = "how long \"not found\" is remembered (default 00:01:00)" };
    private readonly Option<string?> _authFile = new("--auth-file") { Description = "turn access control on with this auth file (principals, hashed tokens, grants; manage it with warren token)" };
    private readonly Option<string?> _anonymous = new("--anonymous") { Description = "GOPRIVATE-style patterns readable without a token when --auth-file is given (default: none)" };
    private readonly Option<string?> _adminListen = new("--admin-listen") { Description = "HOST:PORT of a second listener that serves /metrics without a token" };
    private readonly Option<string?> _authorizeByOrigin = new("--authorize-by-origin") { Description = "GOPRIVATE-style patterns served only to clients whose Basic password can read the origin repository" };
    private readonly Option<TimeSpan?> _originAuthzTtl = new("--origin-authz-ttl") { Description = "how long an origin authorization decision is remembered (default 00:05:00)" };
    private readonly Option<double?> _rateLimit = new("--rate-limit") { Description = "requests per second per principal, or per client IP when anonymous; 0 turns it off (default 500)" };
    private readonly Option<int?> _rateLimitBurst = new("--rate-limit-burst") { Description = "requests a principal may make at once above the rate (default 1000)" };
    private readonly Option<string?> _egressAllow = new("--egress-allow") { Description = "destinations allowed despite the default denial of internal addresses: hosts, IPs or CIDRs, each optionally :PORT" };
    private readonly Option<string?> _egressDeny = new("--egress-deny") { Description = "more destinations to deny, same syntax as --egress-allow" };
    private readonly Option<string?> _direct = new("--direct") { Description = "GOPRIVATE-style patterns of the module paths that may be fetched direct from their origin (default: every path)" };
    private readonly Option<int?> _maxFetches = new("--max-concurrent-fetches") { Description = "concurrent outbound HTTP fetches across all hosts (default 64)" };
    private readonly Option<int?> _maxGit = new("--max-git-processes") { Description = "concurrent git processes (default 16)" };
    private readonly Option<bool> _upstreamCredentialsOverHttp = new("--upstream-credentials-over-http") { Description = "also send upstream credentials (user:password in the URL, .netrc) to http:// upstreams (default: https only)" };

    // scale-out storage
    private readonly Option<string?> _store = new("--store") { Description = "where modules are stored: s3://BUCKET/PREFIX for S3-compatible object storage shared by several nodes (default: the file store under --root)" };
    private readonly Option<string?> _s3Endpoint = new("--s3-endpoint") { Description = "S3 endpoint URL for MinIO, Ceph RGW, R2 … (credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS profile, never a flag)" };
    private readonly Option<string?> _s3Region = new("--s3-region") { Description = "S3 region (default: the AWS SDK's)" };
    private readonly Option<bool> _s3PathStyle = new("--s3-path-style") { Description = "path-style S3 addressing (most S3-compatible servers want it)" };
    private readonly Option<bool> _s3Redirect = new("--s3-redirect") { Description = "answer zip requests with a 302 to a short-lived presigned URL" };
    private readonly Option<string?> _index = new("--index") { Description = "the module index shared by several nodes: postgres://USER@HOST:PORT/DB or an Npgsql connection string; prefer WARREN_INDEX for a password (default: SQLite under --root)" };

    // following another node's index feed
    private readonly Option<string?> _follow = new("--follow") { Description = "follow an index feed (another Warren's https://core/index, or https://index.golang.org/index with --follow-patterns): new versions are fetched before anyone asks" };
    private readonly Option<string?> _followPatterns = new("--follow-patterns") { Description = "GOPRIVATE-style globs of the module paths followed (required for a public feed; default: every path)" };
    private readonly Option<TimeSpan?> _followInterval = new("--follow-interval") { Description = "how often the feed is polled (default 00:01:00)" };
    private readonly Option<int?> _followConcurrency = new("--follow-concurrency") { Description = "versions fetched at once while following (default 4)" };
    private readonly Option<string?> _vulnDb = new("--vulndb") { Description = "the Go vulnerability database mirrored under /vuln/: an https URL (default https://vuln.go.dev), file:///DIR (current layout, or a vulndb.zip) or off" };
    private readonly Option<TimeSpan?> _vulnDbInterval = new("--vulndb-interval") { Description = "how often the vulnerability database is checked for a new copy (default 01:00:00)" };
    private readonly Option<string?> _followRate = new("--follow-rate") { Description = "the most bytes per second following may fetch, e.g. 10M (default: no limit)" };

    // download modes
    private readonly Option<string?> _downloadMode = new("--download-mode") { Description = "per-pattern download modes, 'GLOBS=MODE;GLOBS=MODE', first match wins: sync, async, redirect, async_redirect, none or offline (default: sync)" };

    // health-aware upstreams
    private readonly Option<int?> _upstreamFailures = new("--upstream-failures") { Description = "consecutive failures (no connection, 5xx, timeout) after which an upstream proxy is passed over and probed in the background until it answers; 0 turns this off (default 5)" };
    private readonly Option<TimeSpan?> _upstreamCooldown = new("--upstream-cooldown") { Description = "wait before the first probe of a failed upstream, doubled after each failed probe up to 32 times (default 00:00:05)" };

    // mirror limits
    private readonly Option<string?> _mirrorQuota = new("--mirror-quota") { Description = "disk quota of the git mirrors, e.g. 20G or 500M; the least recently used idle mirrors are deleted to stay within it (default: none)" };
    private readonly Option<TimeSpan?> _mirrorMaxIdle = new("--mirror-max-idle") { Description = "delete git mirrors unused for this long, e.g. 30.00:00:00 (default: keep)" };
    private readonly Option<string?> _localCache = new("--local-cache") { Description = "disk budget of this node's local copies of zips kept in object storage, e.g. 10G; 0 turns them off (default: 2G; not used with --s3-redirect)" };
    private readonly Option<string?> _maxRepoSize = new("--max-repo-size") { Description = "refuse repositories larger than this, e.g. 2G (default: no limit)" };

    // air-gapped sites
    private readonly Option<bool> _offline = new("--offline") { Description = "serve only what is stored (bundles brought in by warren import, their checksum data under /sumdb/NAME/); contact no upstream, origin or checksum database" };

    // retention
    private readonly Option<string?> _storeQuota = new("--store-quota") { Description = "quota of the store's module files, e.g. 50G or 500MB: above 90% of it the least recently used versions (never the --private ones) are evicted in the background down to 80% (default: none)" };

    // who is affected
    private readonly Option<string?> _downloadRetention = new("--download-retention") { Description = "how long download records (counts per version, token, node and day) are kept, e.g. 400d or 12w (default 400d)" };
    private readonly Option<string?> _alertWebhook = new("--alert-webhook") { Description = "POST a JSON event to this http(s) URL when a vulnerability database refresh brings an advisory affecting a version downloaded within the retention window (subject to --egress-allow)" };
    private readonly Option<string?> _nodeName = new("--node-name") { Description = "this node's name in download records (default: the host name)" };
    // policy at the proxy
    private readonly Option<TimeSpan?> _consoleSession = new("--console-session") { Description = "how long a sign-in to the web console at /ui/ lasts, never longer than its token (default 08:00:00)" };
    private readonly Option<string> _console = new Option<string>("--console")
    {
        Description = "serve the web console at /ui/ (on) or not (off: /ui/ is not served, nothing of the console is loaded)",
        DefaultValueFactory = _ => "on",
    }.AcceptOnlyFromAmong("on", "off");
    private readonly Option<string?> _policy = new("--policy") { Description = "policy file (JSON): deny rules, an allow list, denyVulnerable, denyRetracted; denied versions' zips answer 403 with the reason, list and @latest leave them out; reloaded when the file changes (or the Warren:Policy object of appsettings.json)" };

    public ServeCommand()
        : base("serve", "Run the caching Go module proxy (GOPROXY protocol, /sumdb/ proxy, /healthz, /readyz, /metrics).")
    {
        foreach (var option in new Option[] { _listen, _root, _upstream, _sumdb, _hostedSumDb, _hostedPatterns, _sumdbPolicy, _private, _noProxy, _noSumDb, _listTtl, _streamFetchedZips, _negativeTtl,
                     _authFile, _anonymous, _adminListen, _authorizeByOrigin, _originAuthzTtl, _rateLimit, _rateLimitBurst,
                     _egressAllow, _egressDeny, _direct, _maxFetches, _maxGit, _upstreamCredentialsOverHttp,
                     _store, _s3Endpoint, _s3Region, _s3PathStyle, _s3Redirect, _localCache, _index,
                     _follow, _followPatterns, _followInterval, _followConcurrency, _followRate, _vulnDb, _vulnDbInterval,
                     _upstreamFailures, _upstreamCooldown,
                     _mirrorQuota, _mirrorMaxIdle, _maxRepoSize,
                     _downloadMode, _offline, _storeQuota, _policy })
        {
            Add(option);
        }

        foreach (var option in new Option[] { _downloadRetention, _alertWebhook, _nodeName, _consoleSession, _console })
        {
            Add(option);
        }

        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        void Overrides(WarrenOptionsBuilder o)
        {
            o.Listen = parse.GetValue(_listen) ?? o.Listen;
            o.Root = parse.GetValue(_root) ?? o.Root;
            o.Upstream = parse.GetValue(_upstream) ?? o.Upstream;
            o.SumDb = parse.GetValue(_sumdb) ?? o.SumDb;
            o.HostedSumDb = parse.GetValue(_hostedSumDb) ?? o.HostedSumDb;
            o.HostedSumDbPatterns = parse.GetValue(_hostedPatterns) ?? o.HostedSumDbPatterns;
            o.SumDbPolicy = parse.GetValue(_sumdbPolicy) ?? o.SumDbPolicy;
            o.Private = parse.GetValue(_private) ?? o.Private;
            o.NoProxy = parse.GetValue(_noProxy) ?? o.NoProxy;
            o.NoSumDb = parse.GetValue(_noSumDb) ?? o.NoSumDb;
            o.ListTtl = parse.GetValue(_listTtl) ?? o.ListTtl;
            o.StreamFetchedZips = parse.GetValue(_streamFetchedZips) ?? o.StreamFetchedZips;
            o.NegativeTtl = parse.GetValue(_negativeTtl) ?? o.NegativeTtl;
            o.AuthFile = parse.GetValue(_authFile) ?? o.AuthFile;
            o.Anonymous = parse.GetValue(_anonymous) ?? o.Anonymous;
            o.AdminListen = parse.GetValue(_adminListen) ?? o.AdminListen;
            o.AuthorizeByOrigin = parse.GetValue(_authorizeByOrigin) ?? o.AuthorizeByOrigin;
            o.OriginAuthzTtl = parse.GetValue(_originAuthzTtl) ?? o.OriginAuthzTtl;
            o.RateLimit = parse.GetValue(_rateLimit) ?? o.RateLimit;
            o.RateLimitBurst = parse.GetValue(_rateLimitBurst) ?? o.RateLimitBurst;
            o.EgressAllow = parse.GetValue(_egressAllow) ?? o.EgressAllow;
            o.EgressDeny = parse.GetValue(_egressDeny) ?? o.EgressDeny;
            o.Direct = parse.GetValue(_direct) ?? o.Direct;
            o.MaxConcurrentFetches = parse.GetValue(_maxFetches) ?? o.MaxConcurrentFetches;
            o.MaxGitProcesses = parse.GetValue(_maxGit) ?? o.MaxGitProcesses;
            o.UpstreamCredentialsOverHttp = parse.GetValue(_upstreamCredentialsOverHttp) || o.UpstreamCredentialsOverHttp;

            // scale-out storage
            o.Store = parse.GetValue(_store) ?? o.Store;
            o.S3Endpoint = parse.GetValue(_s3Endpoint) ?? o.S3Endpoint;
            o.S3Region = parse.GetValue(_s3Region) ?? o.S3Region;
            o.S3PathStyle = parse.GetValue(_s3PathStyle) || o.S3PathStyle;
            o.S3Redirect = parse.GetValue(_s3Redirect) || o.S3Redirect;
            o.LocalCache = parse.GetValue(_localCache) ?? o.LocalCache;
            o.Index = parse.GetValue(_index) ?? o.Index;

            // following
            o.Follow = parse.GetValue(_follow) ?? o.Follow;
            o.VulnDb = parse.GetValue(_vulnDb) ?? o.VulnDb;
            o.VulnDbInterval = parse.GetValue(_vulnDbInterval) ?? o.VulnDbInterval;
            o.FollowPatterns = parse.GetValue(_followPatterns) ?? o.FollowPatterns;
            o.FollowInterval = parse.GetValue(_followInterval) ?? o.FollowInterval;
            o.FollowConcurrency = parse.GetValue(_followConcurrency) ?? o.FollowConcurrency;
            o.FollowRate = parse.GetValue(_followRate) ?? o.FollowRate;

            // download modes
            o.DownloadMode = parse.GetValue(_downloadMode) ?? o.DownloadMode;

            // health-aware upstreams
            o.UpstreamFailures = parse.GetValue(_upstreamFailures) ?? o.UpstreamFailures;
            o.UpstreamCooldown = parse.GetValue(_upstreamCooldown) ?? o.UpstreamCooldown;

            // mirror limits
            o.MirrorQuota = parse.GetValue(_mirrorQuota) ?? o.MirrorQuota;
            o.MirrorMaxIdle = parse.GetValue(_mirrorMaxIdle) ?? o.MirrorMaxIdle;
            o.MaxRepoSize = parse.GetValue(_maxRepoSize) ?? o.MaxRepoSize;

            // air-gapped sites
            o.Offline = parse.GetValue(_offline) || o.Offline;

            // retention
            o.StoreQuota = parse.GetValue(_storeQuota) ?? o.StoreQuota;

            // who is affected
            o.DownloadRetention = parse.GetValue(_downloadRetention) ?? o.DownloadRetention;
            o.AlertWebhook = parse.GetValue(_alertWebhook) ?? o.AlertWebhook;
            o.NodeName = parse.GetValue(_nodeName) ?? o.NodeName;
            // policy at the proxy
            o.PolicyFile = parse.GetValue(_policy) ?? o.PolicyFile;
        }

        // The store may hold private code: everything this process (and git under it) creates is the user's alone.
        Warren.Storage.FileSystem.StoreFiles.RestrictProcessUmask();
        WebApplication app;
        try
        {
            var console = parse.GetValue(_console) != "off";
            app = WarrenHost.Build(Overrides, services: s =>
            {
                if (console)
                {
                    s.AddWarrenConsole(c => c.SessionLifetime = parse.GetValue(_consoleSession));
                }
            });
            if (console)
            {
                app.MapWarrenConsole();
            }

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("warren serve: invalid configuration: " + SecretRedactor.RedactText(failure)).ConfigureAwait(false);
            }

            return ExitCodes.BadConfiguration;
        }
        catch (IOException ex)
        {
            await Console.Error.WriteLineAsync("warren serve: cannot start: " + SecretRedactor.RedactText(ex.Message)).ConfigureAwait(false);
            return ExitCodes.CannotStart;
        }
        catch (System.Data.Common.DbException ex)
        {
            // The shared index (PostgreSQL) is unreachable or refuses us: one line, never the connection string's password.
            await Console.Error.WriteLineAsync("warren serve: cannot start: the module index: " +
                SecretRedactor.RedactText(Warren.Storage.Postgres.PostgresIndexOptions.Redact(ex.Message.Split('\n')[0]))).ConfigureAwait(false);
            return ExitCodes.CannotStart;
        }

        foreach (var address in WarrenHost.Addresses(app))
        {
            await Console.Out.WriteLineAsync("warren: listening on " + address).ConfigureAwait(false);
        }

        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}

using System.Net;
using Warren.Fetch.Direct.Git;
using Warren.Protocol.GoProxy;
using Warren.Protocol.SumDb;
using Warren.Server.SumDb;
using Warren.Server.Upstream;

namespace Warren.Server.Configuration;

/// <summary>Refuses bad configuration at start-up with one clear line per problem.</summary>
public sealed class WarrenOptionsValidator : IValidateOptions<WarrenOptions>
{
    public ValidateOptionsResult Validate(string? name, WarrenOptions options)
    {
        var problems = new List<string>();
        if (!ListenAddress.TryParse(options.Listen, out var listen, out var listenError))
        {
            problems.Add($"listen: {listenError}");
        }

        var chain = ProxyChain.TryParse(options.Upstream ?? "", out var chainError);
        if (chain is null)
        {
            problems.Add(SecretRedactor.RedactText($"upstream \"{options.Upstream}\": {chainError}"));
        }
        else
        {
            foreach (var spec in chain)
            {
                if (Uri.TryCreate(spec.Url, UriKind.Absolute, out var withUser) && withUser.Scheme == Uri.UriSchemeHttp
                    && UpstreamCredentials.FromUserInfo(withUser) is not null && !options.UpstreamCredentialsOverHttp)
                {
                    problems.Add($"upstream \"{HttpDownloader.Redact(withUser)}\": refusing to pass credentials to an insecure (http) URL; use https, or set UpstreamCredentialsOverHttp (--upstream-credentials-over-http)");
                }
            }
        }

        if (chain is not null && listen is not null)
        {
            foreach (var spec in chain)
            {
                if (Uri.TryCreate(spec.Url, UriKind.Absolute, out var uri) && !uri.IsFile && listen.Port != 0 && uri.Port == listen.Port && listen.IsSameHost(uri.Host))
                {
                    problems.Add($"upstream \"{HttpDownloader.Redact(uri)}\" points back at this server ({options.Listen}); that would loop");
                }
            }
        }

        // Parsed once here for every check below (null: not set, "off", or it does not parse).
        string? sumdbError = null;
        var sumdb = options.SumDb is null ? null : SumDbConfig.TryParse(options.SumDb, out sumdbError);
        if (options.SumDb is not null)
        {
            if (sumdbError is not null)
            {
                problems.Add("sumdb: " + sumdbError);
            }
            else if (sumdb is not null && sumdb.EffectiveKey is null)
            {
                problems.Add($"sumdb \"{options.SumDb}\": no key for {sumdb.Name}; give it as NAME+HASH+KEY [URL]");
            }
            else if (sumdb?.Key is { } key && !Warren.Core.SumDb.NoteVerifier.TryParse(key, out _, out var keyError))
            {
                problems.Add($"sumdb key: {keyError}");
            }
        }

        ValidateHosted(options, sumdb, problems);
        ValidateAccessControl(options, listen, problems);

        foreach (var (label, value) in new[] { ("private", options.Private), ("no-proxy", options.NoProxy), ("no-sumdb", options.NoSumDb), ("insecure", options.GoInsecure), ("hosted sumdb patterns", options.HostedSumDbPatterns) })
        {
            if (!string.IsNullOrEmpty(value) && ModulePatterns.Validate(value) is { } patternError)
            {
                problems.Add($"{label} \"{value}\": {patternError}");
            }
        }

        ValidateEgress(options, problems);

        if (string.IsNullOrWhiteSpace(options.Root))
        {
            problems.Add("root: no store directory");
        }

        problems.AddRange(Storage.StorageSelection.Problems(options));
        ValidateFollow(options, problems);
        problems.AddRange(Vulns.VulnDbSource.Problems(options));
        if (options.Offline && options.Follow is not null)
        {
            problems.Add("offline: cannot follow a feed (--follow) while contacting nothing");
        }

        problems.AddRange(Ingest.DownloadModePolicy.Problems(options));
        problems.AddRange(Impact.ImpactSettings.Problems(options));

        if (options.UsageFlushInterval <= TimeSpan.Zero)
        {
            problems.Add($"usage flush interval must be positive, not {options.UsageFlushInterval}");
        }
        if (options.ClusterLeaseDuration < TimeSpan.FromSeconds(1))
        {
            problems.Add($"cluster lease duration must be at least 1 second, not {options.ClusterLeaseDuration}");
        }

        if (options.UpstreamFailures < 0)
        {
            problems.Add($"upstream failures must be 0 (no circuit breakers) or more, not {options.UpstreamFailures}");
        }

        foreach (var (label, value) in new[] { ("list TTL", options.ListTtl), ("upstream timeout", options.UpstreamTimeout), ("connect timeout", options.ConnectTimeout), ("upstream cool-down", options.UpstreamCooldown) })
        {
            if (value <= TimeSpan.Zero)
            {
                problems.Add($"{label} must be positive, not {value}");
            }
        }

        if (options.PrefetchMode is null)
        {
            problems.Add($"prefetch must be direct, all or off, not \"{options.Prefetch}\"");
        }

        if (options.GitHostConcurrency < 1)
        {
            problems.Add("git host concurrency must be at least 1");
        }

        if (options.GitTimeout <= TimeSpan.Zero)
        {
            problems.Add("git timeout must be positive");
        }

        if (options.GitShallowAfter < TimeSpan.Zero)
        {
            problems.Add($"GitShallowAfter must be zero or more, not {options.GitShallowAfter}");
        }

        foreach (var (host, credential) in options.GitCredentials)
        {
            if (string.IsNullOrWhiteSpace(host) || string.IsNullOrEmpty(credential))
            {
                problems.Add($"git credentials: host \"{host}\" needs \"user:password\" or a token");
            }
        }

        if (options.NegativeTtl < TimeSpan.Zero)
        {
            problems.Add("negative TTL must not be negative");
        }

        ValidateOriginAuthorization(options, problems);
        ValidateLimits(options, problems);
        if (options.Tracing.Problem is { } tracing)
        {
            problems.Add(tracing);
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static void ValidateAccessControl(WarrenOptions options, ListenAddress? listen, List<string> problems)
    {
        if (!string.IsNullOrEmpty(options.AuthFile))
        {
            try
            {
                Auth.AuthFile.Load(options.AuthFile);
            }
            catch (Auth.AuthFileException e)
            {
                problems.Add(e.Message);
            }
        }

        if (!string.IsNullOrEmpty(options.Anonymous))
        {
            if (ModulePatterns.Validate(options.Anonymous) is { } anonymousError)
            {
                problems.Add($"anonymous \"{options.Anonymous}\": {anonymousError}");
            }
            else if (string.IsNullOrEmpty(options.AuthFile))
            {
                problems.Add($"anonymous \"{options.Anonymous}\": only means something with an auth file (--auth-file); without one everything is readable");
            }
        }

        if (!string.IsNullOrEmpty(options.AdminListen))
        {
            if (!ListenAddress.TryParse(options.AdminListen, out var admin, out var adminError))
            {
                problems.Add($"admin listen: {adminError}");
            }
            else if (listen is not null && admin!.Port != 0 && admin.Port == listen.Port)
            {
                problems.Add($"admin listen {options.AdminListen}: the same port as --listen {options.Listen}");
            }
        }

        if (double.IsNaN(options.RateLimit) || double.IsInfinity(options.RateLimit) || options.RateLimit < 0 || options.RateLimit > 1_000_000)
        {
            problems.Add($"rate limit {options.RateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)}: want requests per second from 0 (off) to 1000000");
        }

        if (options.RateLimit > 0 && options.RateLimitBurst is < 1 or > 10_000_000)
        {
            problems.Add($"rate limit burst {options.RateLimitBurst}: want 1 to 10000000");
        }
    }

    private static void ValidateOriginAuthorization(WarrenOptions options, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(options.AuthorizeByOrigin))
        {
            return;
        }

        if (ModulePatterns.Validate(options.AuthorizeByOrigin) is { } patternError)
        {
            problems.Add($"authorize-by-origin \"{options.AuthorizeByOrigin}\": {patternError}");
        }

        if (options.OriginAuthzTtl < TimeSpan.Zero)
        {
            problems.Add($"origin authz TTL must not be negative, not {options.OriginAuthzTtl}");
        }
    }

    /// <summary>One line per bad entry of --egress-allow, --egress-deny and --direct.</summary>
    private static void ValidateEgress(WarrenOptions options, List<string> problems)
    {
        foreach (var (label, value) in new[] { ("egress-allow", options.EgressAllow), ("egress-deny", options.EgressDeny) })
        {
            Warren.Fetch.Direct.Egress.EgressRule.ParseList(value, out var errors);
            problems.AddRange(errors.Select(e => $"{label} {e}"));
        }

        foreach (var glob in (options.Direct ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ModulePatterns.Validate(glob) is { } patternError)
            {
                problems.Add($"direct: {patternError}");
            }
        }
    }

    /// <summary>Resource limits: concurrency, memory caches, the index's answers, mirror quota and sizes.</summary>
    private static void ValidateLimits(WarrenOptions options, List<string> problems)
    {
        foreach (var (label, value) in new[] { ("max concurrent fetches", options.MaxConcurrentFetches), ("max git processes", options.MaxGitProcesses),
                     ("memory cache entries", options.MemoryCacheEntries), ("open files", options.OpenFiles), ("answers max count", options.AnswersMaxCount) })
        {
            if (value < 1)
            {
                problems.Add($"{label} must be at least 1, not {value}");
            }
        }

        if (options.MemoryCacheBytes < 1)
        {
            problems.Add($"memory cache bytes must be at least 1, not {options.MemoryCacheBytes}");
        }

        foreach (var (label, value) in new[] { ("answers max age", (TimeSpan?)options.AnswersMaxAge), ("maintenance interval", options.MaintenanceInterval), ("mirror max idle", options.MirrorMaxIdle) })
        {
            if (value is { } v && v <= TimeSpan.Zero)
            {
                problems.Add($"{label} must be positive, not {v}");
            }
        }

        foreach (var (label, size) in new[] { ("mirror quota", options.MirrorQuotaSize), ("max repo size", options.MaxRepoSizeSize), ("local cache", options.LocalCacheSize), ("store quota", options.StoreQuotaSize),
                     ("stream fetched zips (a size or off)", options.StreamFetchedZipsSize) })
        {
            if (size.Error is { } error)
            {
                problems.Add($"{label}: {error}");
            }
        }
    }

    /// <summary>The feed to follow: an http(s) URL; a public feed only with patterns (nobody wants the whole public Go
    /// ecosystem by accident); positive interval and concurrency; a rate that parses.</summary>
    private static void ValidateFollow(WarrenOptions options, List<string> problems)
    {
        if (options.Follow is null)
        {
            return;
        }

        if (!Uri.TryCreate(options.Follow, UriKind.Absolute, out var feed) || feed.Scheme is not ("http" or "https"))
        {
            problems.Add($"follow \"{options.Follow}\": want the http(s) URL of an index feed, such as https://core.example/index");
        }
        else if (Mirror.FeedFollower.IsPublicFeed(feed) && string.IsNullOrWhiteSpace(options.FollowPatterns))
        {
            problems.Add($"follow {feed.Host}: a public feed needs --follow-patterns (GOPRIVATE-style globs such as 'golang.org/x/*'), or every public module would be fetched");
        }

        if (!string.IsNullOrEmpty(options.FollowPatterns) && ModulePatterns.Validate(options.FollowPatterns) is { } patternError)
        {
            problems.Add($"follow patterns \"{options.FollowPatterns}\": {patternError}");
        }

        if (options.FollowInterval <= TimeSpan.Zero)
        {
            problems.Add($"follow interval must be positive, not {options.FollowInterval}");
        }

        if (options.FollowConcurrency < 1)
        {
            problems.Add("follow concurrency must be at least 1");
        }

        if (SizeSetting.Parse(options.FollowRate).Error is { } rateError)
        {
            problems.Add("follow rate: " + rateError);
        }
    }

    /// <param name="sumdb">The parsed <see cref="WarrenOptions.SumDb"/> (null: not set, off, or it does not parse).</param>
    private static void ValidateHosted(WarrenOptions options, SumDbConfig? sumdb, List<string> problems)
    {
        string? hostedName = null;
        if (!string.IsNullOrEmpty(options.HostedSumDb))
        {
            if (HostedSumDbKey.TryLoad(options.HostedSumDb, out var signer, out var error))
            {
                hostedName = signer.Name;
                if (sumdb is not null && sumdb.Name == hostedName)
                {
                    problems.Add($"hosted sumdb {hostedName}: the same name as the checksum database it verifies against");
                }
            }
            else
            {
                problems.Add("hosted sumdb: " + error);
            }
        }

        if (!string.IsNullOrWhiteSpace(options.SumDbPolicy))
        {
            var (rules, error) = ChecksumPolicy.Parse(options.SumDbPolicy);
            if (error is not null)
            {
                problems.Add($"sumdb policy \"{options.SumDbPolicy}\": {error}");
            }
            else
            {
                var sumdbOff = sumdb is null;
                foreach (var rule in rules)
                {
                    if (rule.Mode == ChecksumMode.Hosted && hostedName is null)
                    {
                        problems.Add($"sumdb policy \"{rule.Patterns}=hosted\": no hosted checksum database (--hosted-sumdb)");
                    }
                    else if (rule.Mode == ChecksumMode.SumDb && sumdbOff)
                    {
                        problems.Add($"sumdb policy \"{rule.Patterns}=sumdb\": the checksum database is off (--sumdb)");
                    }
                }
            }
        }
    }
}

/// <summary>A HOST:PORT to listen on.</summary>
public sealed record ListenAddress(string Host, IPAddress? Address, int Port)
{
    public static bool TryParse(string value, out ListenAddress? address, out string? error)
    {
        address = null;
        error = null;
        var colon = value.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(value.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            error = $"\"{value}\" is not HOST:PORT";
            return false;
        }

        var host = value[..colon].Trim('[', ']');
        if (host is "" or "*" or "+")
        {
            address = new ListenAddress(host, IPAddress.IPv6Any, port);
            return true;
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            address = new ListenAddress(host, ip, port);
            return true;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = new ListenAddress(host, null, port);
            return true;
        }

        error = $"host \"{host}\" must be an IP address, localhost or *";
        return false;
    }

    /// <summary>Whether a URL host names this listener (loopback, any-address, or the same host).</summary>
    public bool IsSameHost(string urlHost)
    {
        var host = urlHost.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || string.Equals(host, Host, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(host, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            return IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) ||
                   (Address is not null && (Address.Equals(ip) || Address.Equals(IPAddress.Any) || Address.Equals(IPAddress.IPv6Any)));
        }

        return false;
    }
}

using Warren.Fetch.Direct.Egress;
using Warren.Protocol;

namespace Warren.Server.Egress;

/// <summary>Builds the outbound policy from the options: --egress-allow, --egress-deny, and the operator-chosen
/// endpoints that are allowed implicitly, exactly as configured (host and port): every http(s) upstream proxy, the
/// checksum database's URL (or https://NAME when it has none) and the outbound proxy (configured, or from the
/// proxy variables of the environment).</summary>
public static class EgressServices
{
    public static EgressPolicy CreatePolicy(WarrenOptions options, ProtocolSettings settings, WarrenMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        var allow = EgressRule.ParseList(options.EgressAllow, out _);
        var deny = EgressRule.ParseList(options.EgressDeny, out _);
        return new EgressPolicy(allow, deny, ImplicitEndpoints(options, settings), onDenied: refusal =>
        {
            metrics.EgressDenied(refusal.Kind);
            Log.EgressDenied(logger, refusal.Host, refusal.Port, refusal.Address?.ToString() ?? "", refusal.Kind, refusal.Message);
        });
    }

    /// <summary>Host and port of every endpoint the operator configured.</summary>
    public static IEnumerable<(string Host, int Port)> ImplicitEndpoints(WarrenOptions options) =>
        ImplicitEndpoints(options, WarrenServiceCollectionExtensions.ProtocolSettingsFrom(options));

    /// <summary>Host and port of every endpoint the operator configured (the chain and database as parsed at start-up).</summary>
    public static IEnumerable<(string Host, int Port)> ImplicitEndpoints(WarrenOptions options, ProtocolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var urls = new List<Uri>();
        foreach (var spec in settings.Upstream)
        {
            if (Uri.TryCreate(spec.Url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https")
            {
                urls.Add(u);
            }
        }

        if (options.Follow is { } follow && Uri.TryCreate(follow, UriKind.Absolute, out var feed) && feed.Scheme is "http" or "https")
        {
            urls.Add(feed);
        }

        if (Vulns.VulnDbSource.RemoteUrl(options) is { } vulndb)
        {
            urls.Add(vulndb);
        }

        if (settings.SumDb is { } sumdb)
        {
            var host = sumdb.Name.Split('/')[0];
            if (sumdb.Url is not null)
            {
                urls.Add(sumdb.Url);
            }
            else if (Uri.TryCreate("https://" + host, UriKind.Absolute, out var byName))
            {
                urls.Add(byName);
            }
        }

        // The outbound proxy: configured, or else the proxy variables HttpClient and git read from the environment
        // (read once at start-up into the options).
        string?[] proxies = options.OutboundProxy is { Length: > 0 } configured
            ? [configured]
            : [options.EnvironmentProxies.HttpsProxy, options.EnvironmentProxies.HttpProxy, options.EnvironmentProxies.AllProxy];
        foreach (var proxy in proxies)
        {
            if (proxy is { Length: > 0 } && Uri.TryCreate(proxy.Contains("://", StringComparison.Ordinal) ? proxy : "http://" + proxy, UriKind.Absolute, out var p))
            {
                urls.Add(p);
            }
        }

        return urls.Select(u => (u.IdnHost, u.Port)).Distinct().ToArray();
    }
}

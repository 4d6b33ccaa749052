using System.Net;

namespace Warren.Tools.Doctor;

/// <summary>The outbound proxy the go command would use: HTTPS_PROXY / HTTP_PROXY (either case) with NO_PROXY exceptions
/// (host names, domain suffixes with or without a leading dot, "*", host:port, IP addresses and CIDR ranges). As in the go
/// command, requests to localhost and loopback addresses never go through a proxy.</summary>
public sealed class EnvironmentWebProxy : IWebProxy
{
    private readonly Uri? _https;
    private readonly Uri? _http;
    private readonly string[] _noProxy;

    private EnvironmentWebProxy(Uri? https, Uri? http, string[] noProxy)
    {
        _https = https;
        _http = http;
        _noProxy = noProxy;
    }

    public ICredentials? Credentials { get; set; }

    /// <summary>True when any proxy variable is set.</summary>
    public bool IsConfigured => _https is not null || _http is not null;

    /// <summary>Reads the variables from an environment.</summary>
    public static EnvironmentWebProxy FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string name) => environment.GetValueOrDefault(name) is { Length: > 0 } v ? v
            : environment.GetValueOrDefault(name.ToLowerInvariant()) is { Length: > 0 } w ? w : null;
        static Uri? Parse(string? value) =>
            value is null ? null
            : Uri.TryCreate(value.Contains("://", StringComparison.Ordinal) ? value : "http://" + value, UriKind.Absolute, out var u) ? u : null;
        var noProxy = (Get("NO_PROXY") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new EnvironmentWebProxy(Parse(Get("HTTPS_PROXY")), Parse(Get("HTTP_PROXY")), noProxy);
    }

    public Uri? GetProxy(Uri destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return IsBypassed(destination) ? null : destination.Scheme == "https" ? _https : _http;
    }

    public bool IsBypassed(Uri host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var proxy = host.Scheme == "https" ? _https : _http;
        if (proxy is null)
        {
            return true;
        }

        var name = host.IdnHost.Trim('[', ']');
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address)))
        {
            return true;
        }

        foreach (var entry in _noProxy)
        {
            if (entry == "*")
            {
                return true;
            }

            var pattern = entry;
            if (pattern.Contains('/', StringComparison.Ordinal))
            {
                if (IPNetwork.TryParse(pattern, out var network) && IPAddress.TryParse(name, out var ip) && network.Contains(ip))
                {
                    return true;
                }

                continue;
            }

            var colon = pattern.LastIndexOf(':');
            if (colon > 0 && !pattern.Contains("::", StringComparison.Ordinal) && int.TryParse(pattern[(colon + 1)..], out var port))
            {
                if (port != host.Port)
                {
                    continue;
                }

                pattern = pattern[..colon];
            }

            pattern = pattern.TrimStart('*').TrimStart('.');
            if (name.Equals(pattern, StringComparison.OrdinalIgnoreCase) || name.EndsWith("." + pattern, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A handler that uses the proxy of the environment (and none when the variables are not set).</summary>
    public static HttpMessageHandler CreateHandler(IReadOnlyDictionary<string, string?> environment)
    {
        var proxy = FromEnvironment(environment);
        return new SocketsHttpHandler
        {
            UseProxy = proxy.IsConfigured,
            Proxy = proxy.IsConfigured ? proxy : null,
            AllowAutoRedirect = true,
            AutomaticDecompression = DecompressionMethods.All,
        };
    }
}

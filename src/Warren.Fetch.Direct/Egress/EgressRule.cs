using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Warren.Fetch.Direct.Egress;

/// <summary>One entry of --egress-allow or --egress-deny: a host name ("git.corp.example", or "*.corp.example" for
/// its subdomains), an IP address or a CIDR block (IPv6 bare or in brackets), each optionally ":PORT".</summary>
public sealed record EgressRule
{
    private EgressRule(string text, string? host, bool subdomains, IPAddress? network, int prefixLength, int? port) =>
        (Text, Host, Subdomains, Network, PrefixLength, Port) = (text, host, subdomains, network, prefixLength, port);

    /// <summary>The entry as written.</summary>
    public string Text { get; }

    /// <summary>The host name (lower case, no trailing dot) of a name entry; null for an address entry.</summary>
    public string? Host { get; }

    /// <summary>"*.example.com": matches the subdomains of Host, not Host itself.</summary>
    public bool Subdomains { get; }

    /// <summary>The network of an address entry (host bits cleared); null for a name entry.</summary>
    public IPAddress? Network { get; }

    public int PrefixLength { get; }

    /// <summary>The port the entry is limited to; null for every port.</summary>
    public int? Port { get; }

    /// <summary>Whether the entry names this host (the name asked for, before resolution) on this port.</summary>
    public bool MatchesName(string host, int port) =>
        Host is not null && PortMatches(port) && NameMatches(EgressAddress.NormalizeHost(host));

    /// <summary>Whether the entry covers this address on this port.</summary>
    public bool MatchesAddress(IPAddress address, int port) =>
        Network is not null && PortMatches(port) && EgressAddress.InNetwork(EgressAddress.Normalize(address), Network, PrefixLength);

    private bool PortMatches(int port) => Port is null || Port == port;

    private bool NameMatches(string host) =>
        Subdomains ? host.EndsWith("." + Host, StringComparison.Ordinal) : host == Host;

    public override string ToString() => Text;

    /// <summary>Parses a comma- or space-separated list; one error line per bad entry.</summary>
    public static IReadOnlyList<EgressRule> ParseList(string? list, out IReadOnlyList<string> errors)
    {
        var rules = new List<EgressRule>();
        var problems = new List<string>();
        foreach (var entry in (list ?? "").Split([',', ' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (TryParse(entry, out var rule, out var error))
            {
                rules.Add(rule);
            }
            else
            {
                problems.Add($"\"{entry}\": {error}");
            }
        }

        errors = problems;
        return rules;
    }

    /// <summary>Parses one entry.</summary>
    public static bool TryParse(string entry, out EgressRule rule, out string error)
    {
        ArgumentNullException.ThrowIfNull(entry);
        rule = null!;
        error = "";
        var text = entry.Trim();
        string addressPart;
        string? portPart = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = "missing ']'";
                return false;
            }

            addressPart = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.StartsWith('/'))
            {
                var colon = rest.IndexOf(':', StringComparison.Ordinal);
                addressPart += colon < 0 ? rest : rest[..colon];
                rest = colon < 0 ? "" : rest[colon..];
            }

            if (rest.Length > 0)
            {
                if (!rest.StartsWith(':'))
                {
                    error = "want [IPV6]:PORT";
                    return false;
                }

                portPart = rest[1..];
            }

            if (!addressPart.Contains(':', StringComparison.Ordinal))
            {
                error = "brackets are for IPv6 addresses";
                return false;
            }
        }
        else if (text.Count(c => c == ':') >= 2)
        {
            addressPart = text; // bare IPv6, no port
        }
        else
        {
            var colon = text.LastIndexOf(':');
            addressPart = colon < 0 ? text : text[..colon];
            portPart = colon < 0 ? null : text[(colon + 1)..];
        }

        int? port = null;
        if (portPart is not null)
        {
            if (!int.TryParse(portPart, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                error = $"invalid port \"{portPart}\": want 1-65535";
                return false;
            }

            port = p;
        }

        if (addressPart.Length == 0)
        {
            error = "no host, address or CIDR";
            return false;
        }

        var slash = addressPart.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0 || LooksLikeAddress(addressPart))
        {
            var ipText = slash >= 0 ? addressPart[..slash] : addressPart;
            if (!IPAddress.TryParse(ipText, out var ip) || (ip.AddressFamily == AddressFamily.InterNetwork && ipText.Count(c => c == '.') != 3) || (ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.ScopeId != 0))
            {
                error = $"invalid IP address \"{ipText}\"";
                return false;
            }

            ip = EgressAddress.Normalize(ip);
            var max = ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            var length = max;
            if (slash >= 0 && (!int.TryParse(addressPart[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max))
            {
                error = $"invalid prefix length \"{addressPart[(slash + 1)..]}\": want 0-{max}";
                return false;
            }

            rule = new EgressRule(text, null, false, EgressAddress.Mask(ip, length), length, port);
            return true;
        }

        var subdomains = addressPart.StartsWith("*.", StringComparison.Ordinal);
        var name = EgressAddress.NormalizeHost(subdomains ? addressPart[2..] : addressPart);
        if (!IsHostName(name))
        {
            error = "not a host name, IP address or CIDR";
            return false;
        }

        rule = new EgressRule(text, name, subdomains, null, 0, port);
        return true;
    }

    private static bool LooksLikeAddress(string s) =>
        s.Contains(':', StringComparison.Ordinal) || s.All(c => char.IsAsciiDigit(c) || c == '.');

    private static bool IsHostName(string name)
    {
        if (name.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label.StartsWith('-') || label.EndsWith('-') || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}

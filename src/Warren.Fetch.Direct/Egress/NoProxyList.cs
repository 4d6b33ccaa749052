namespace Warren.Fetch.Direct.Egress;

/// <summary>NO_PROXY matching as curl and Go do it: "*", "host", ".domain" / "domain" (the domain and its
/// subdomains), optionally ":port".</summary>
public static class NoProxyList
{
    public static bool Matches(string list, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(list);
        var name = EgressAddress.NormalizeHost(host);
        foreach (var raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw == "*")
            {
                return true;
            }

            var entry = raw;
            var entryPort = -1;
            var colon = entry.LastIndexOf(':');
            if (colon > 0 && entry.IndexOf(':', StringComparison.Ordinal) == colon && int.TryParse(entry.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out var p))
            {
                (entry, entryPort) = (entry[..colon], p);
            }

            entry = EgressAddress.NormalizeHost(entry.TrimStart('*').TrimStart('.'));
            if ((entryPort < 0 || entryPort == port) && (name == entry || name.EndsWith("." + entry, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }
}

namespace Warren.Protocol.GoProxy;

/// <summary>One entry of a GOPROXY-syntax chain.</summary>
/// <param name="Url">A proxy base URL (http, https or file), or "direct" or "off".</param>
/// <param name="FallBackOnError">True when the entry is followed by '|': any error falls through, not only 404/410.</param>
public sealed record ProxySpec(string Url, bool FallBackOnError)
{
    public bool IsDirect => Url == "direct";

    public bool IsOff => Url == "off";
}

/// <summary>Parses GOPROXY syntax exactly as the go command does (cmd/go/internal/modfetch proxyList).</summary>
public static class ProxyChain
{
    /// <summary>Parses the chain; returns null and a reason when it is invalid.</summary>
    public static IReadOnlyList<ProxySpec>? TryParse(string value, out string? error)
    {
        var list = new List<ProxySpec>();
        var rest = value;
        error = null;
        while (rest.Length > 0)
        {
            string entry;
            var fallBack = false;
            var i = rest.AsSpan().IndexOfAny(',', '|');
            if (i >= 0)
            {
                entry = rest[..i];
                fallBack = rest[i] == '|';
                rest = rest[(i + 1)..];
            }
            else
            {
                entry = rest;
                rest = "";
            }

            entry = entry.Trim();
            if (entry.Length == 0)
            {
                continue;
            }

            if (entry is "off" or "direct")
            {
                // Both end the walk: "off" always fails hard and "direct" is the last word.
                list.Add(new ProxySpec(entry, fallBack));
                break;
            }

            if (entry.AsSpan().IndexOfAny(".:/") >= 0 && !entry.Contains(":/", StringComparison.Ordinal) && !entry.StartsWith('/'))
            {
                entry = "https://" + entry;
            }

            if (!Uri.TryCreate(entry, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "file"))
            {
                error = $"invalid proxy URL \"{entry}\": only http, https and file URLs, \"direct\" and \"off\" are allowed";
                return null;
            }

            if (uri.Scheme != "file" && string.IsNullOrEmpty(uri.Host))
            {
                error = $"invalid proxy URL \"{entry}\": missing host";
                return null;
            }

            list.Add(new ProxySpec(entry.TrimEnd('/'), fallBack));
        }

        if (list.Count == 0)
        {
            error = "the upstream list is not empty, but contains no entries";
            return null;
        }

        return list;
    }

    /// <summary>The first proxy URL of a GOPROXY-syntax chain, parsed by <see cref="TryParse"/> (so "https://" is
    /// added to an entry without a scheme), or null when the chain is empty or invalid or begins with "direct" or "off"
    /// (entries after either are never reached).</summary>
    public static string? FirstProxyUrl(string? value) =>
        value is not null && TryParse(value, out _) is [var first, ..] && !first.IsDirect && !first.IsOff ? first.Url : null;
}

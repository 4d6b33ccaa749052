using Warren.Protocol.GoProxy;

namespace Warren.Protocol.SumDb;

/// <summary>Where a checksum database is reached, by the go command's rule (cmd/go/internal/modfetch/sumdb.go): the
/// URL given in GOSUMDB alone; else each proxy of the chain before "direct" or "off" that serves
/// &lt;proxy&gt;/sumdb/&lt;name&gt;/ (the first answering 200 to …/supported is used), then the database itself.</summary>
public static class SumDbEndpoints
{
    /// <summary>The base URLs to try, in order, each ending in '/'. Proxy URLs lose their user information; file://
    /// proxies are skipped (they cannot serve a database).</summary>
    public static IReadOnlyList<Uri> BaseUrlsFor(SumDbConfig config, IEnumerable<ProxySpec> chain)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(chain);
        if (config.Url is { } url)
        {
            return [WithSlash(url)];
        }

        var list = new List<Uri>();
        foreach (var spec in chain)
        {
            if (spec.IsDirect || spec.IsOff)
            {
                break;
            }

            if (Uri.TryCreate(spec.Url, UriKind.Absolute, out var proxy) && proxy.Scheme is "http" or "https")
            {
                list.Add(new Uri(GoProxyClient.WithoutUserInfo(proxy).AbsoluteUri.TrimEnd('/') + "/sumdb/" + config.Name + "/"));
            }
        }

        list.Add(DirectUrl(config));
        return list;
    }

    /// <summary>The database itself: its configured URL, else https://NAME/.</summary>
    public static Uri DirectUrl(SumDbConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Url is { } url ? WithSlash(url) : new Uri("https://" + config.Name + "/");
    }

    private static Uri WithSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
}

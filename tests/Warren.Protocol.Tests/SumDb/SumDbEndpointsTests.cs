using Warren.Protocol.GoProxy;
using Warren.Protocol.SumDb;

namespace Warren.Protocol.Tests.SumDb;

public sealed class SumDbEndpointsTests
{
    private static IReadOnlyList<string> Urls(string sumdb, string chain) =>
        [.. SumDbEndpoints.BaseUrlsFor(SumDbConfig.TryParse(sumdb, out _)!, ProxyChain.TryParse(chain, out _)!).Select(u => u.AbsoluteUri)];

    [Fact]
    public void The_proxies_before_direct_then_the_database_itself()
    {
        Assert.Equal(
            ["https://a.example/sumdb/sum.golang.org/", "http://b.example/base/sumdb/sum.golang.org/", "https://sum.golang.org/"],
            Urls("sum.golang.org", "https://a.example,http://b.example/base/|direct,https://never.example"));
    }

    [Fact]
    public void Off_ends_the_list_file_proxies_are_skipped_and_user_information_is_dropped()
    {
        Assert.Equal(["https://a.example/sumdb/sum.golang.org/", "https://sum.golang.org/"],
            Urls("sum.golang.org", "file:///srv/proxy,https://u:p@a.example,off"));
    }

    [Fact]
    public void A_configured_url_is_the_only_one()
    {
        Assert.Equal(["http://127.0.0.1:9/db/"], Urls("sum.test.example+key http://127.0.0.1:9/db", "https://a.example"));
        Assert.Equal(new Uri("https://sum.golang.google.cn/"), SumDbEndpoints.DirectUrl(SumDbConfig.TryParse("sum.golang.google.cn", out _)!));
    }

    [Fact]
    public void Protocol_settings_are_parsed_once_with_the_proxied_default()
    {
        var off = ProtocolSettings.Parse("https://a.example,direct", "off", "sum.golang.org");
        Assert.Null(off.SumDb);
        Assert.Null(off.ProxiedSumDb);
        Assert.Equal(["https://a.example", "direct"], off.Upstream.Select(s => s.Url));

        var unset = ProtocolSettings.Parse("direct", null, "sum.golang.org");
        Assert.Null(unset.SumDb);
        Assert.Equal("sum.golang.org", unset.ProxiedSumDb!.Name);

        var invalid = ProtocolSettings.Parse("ftp://x", "a b c", "sum.golang.org");
        Assert.Empty(invalid.Upstream);
        Assert.Null(invalid.SumDb);
    }
}

using Warren.Protocol.GoProxy;

namespace Warren.Protocol.Tests.GoProxy;

public sealed class ProxyChainTests
{
    [Theory]
    [InlineData("https://a.example,https://b.example|https://c.example,direct", "https://a.example:False,https://b.example:True,https://c.example:False,direct:False")]
    [InlineData(" proxy.example.com , off, https://never", "https://proxy.example.com:False,off:False")]
    [InlineData("direct,https://ignored", "direct:False")]
    [InlineData("file:///srv/goproxy/", "file:///srv/goproxy:False")]
    public void Chain_parses_like_the_go_command(string value, string expected)
    {
        var chain = ProxyChain.TryParse(value, out var error);
        Assert.Null(error);
        Assert.Equal(expected, string.Join(',', chain!.Select(s => s.Url + ":" + s.FallBackOnError)));
    }

    [Theory]
    [InlineData(",", "contains no entries")]
    [InlineData("ftp://x.example", "only http, https and file")]
    [InlineData("http://", "invalid proxy URL")]
    public void Bad_chains_are_refused(string value, string reason)
    {
        Assert.Null(ProxyChain.TryParse(value, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Direct_and_off_are_flagged_and_end_the_chain()
    {
        var chain = ProxyChain.TryParse("https://a.example|direct", out _)!;
        Assert.Equal(2, chain.Count);
        Assert.True(chain[0].FallBackOnError);
        Assert.True(chain[1].IsDirect);
        Assert.False(chain[1].IsOff);
        Assert.True(ProxyChain.TryParse("off", out _)![0].IsOff);
    }

    [Theory]
    [InlineData("proxy.example.com,direct", "https://proxy.example.com")]
    [InlineData("https://a.example/,https://b.example", "https://a.example")]
    [InlineData(" https://a.example | https://b.example", "https://a.example")]
    [InlineData("file:///srv/goproxy", "file:///srv/goproxy")]
    [InlineData(",,https://a.example", "https://a.example")]
    public void First_proxy_url_is_the_first_entry_of_the_chain(string value, string expected)
    {
        Assert.Equal(expected, ProxyChain.FirstProxyUrl(value));
    }

    [Theory]
    [InlineData("off,https://a.example")]
    [InlineData("off|https://a.example")]
    [InlineData("direct,https://a.example")]
    [InlineData("direct|https://a.example")]
    [InlineData(" direct ")]
    [InlineData("")]
    [InlineData(" , | ")]
    [InlineData(null)]
    [InlineData("ftp://a.example,https://b.example")]
    [InlineData("https://a.example,http://")]
    public void First_proxy_url_is_null_past_off_or_direct_or_for_an_empty_or_invalid_chain(string? value)
    {
        Assert.Null(ProxyChain.FirstProxyUrl(value));
    }
}

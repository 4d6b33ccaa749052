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
}

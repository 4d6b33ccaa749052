using Warren.Tools.Doctor;

namespace Warren.Tools.Tests.Doctor;

public sealed class EnvironmentWebProxyTests
{
    private static readonly EnvironmentWebProxy Proxy = EnvironmentWebProxy.FromEnvironment(new Dictionary<string, string?>
    {
        ["HTTPS_PROXY"] = "http://squid.corp:3128",
        ["http_proxy"] = "squid.corp:8080",
        ["NO_PROXY"] = ".internal.example, git.example.com:8443, 10.0.0.0/8",
    });

    [Theory]
    [InlineData("https://proxy.golang.org/", "http://squid.corp:3128/")]
    [InlineData("http://goproxy.example.net/", "http://squid.corp:8080/")]
    [InlineData("https://git.example.com/", "http://squid.corp:3128/")]
    [InlineData("https://a.internal.example/", null)]
    [InlineData("https://internal.example/", null)]
    [InlineData("https://git.example.com:8443/", null)]
    [InlineData("http://10.1.2.3/", null)]
    [InlineData("http://127.0.0.1:3000/", null)]
    [InlineData("http://localhost/", null)]
    public void Proxies_follow_the_variables_and_never_take_loopback(string url, string? expected) =>
        Assert.Equal(expected, Proxy.GetProxy(new Uri(url))?.ToString());
}

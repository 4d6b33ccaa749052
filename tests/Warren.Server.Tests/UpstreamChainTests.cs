using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Upstream;

namespace Warren.Server.Tests;

public sealed class UpstreamChainTests
{
    private const string Info = "github.com/pkg/errors/@v/v0.9.1.info";

    [Theory]
    [InlineData("a,b", false)]
    [InlineData("a|b", true)]
    public async Task A_failing_proxy_falls_through_only_after_a_pipe(string shape, bool fallsThrough)
    {
        await using var broken = await FakeUpstream.StartAsync(TestPaths.Corpus);
        broken.Intercept = async context =>
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("database on fire");
            return true;
        };
        await using var good = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(shape.Replace("a", broken.Url).Replace("b", good.Url));

        using var response = await warren.Client.GetAsync(Info);
        var body = await response.Content.ReadAsStringAsync();
        if (fallsThrough)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Contains("500", body);
            Assert.Contains("database on fire", body);
            Assert.Equal(0, good.HitsFor(".info"));
        }
    }

    [Theory]
    [InlineData(",")]
    [InlineData("|")]
    public async Task Not_found_falls_through_after_either_separator(string separator)
    {
        await using var empty = await FakeUpstream.StartAsync(TestPaths.NewTempDir("empty"));
        await using var good = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(empty.Url + separator + good.Url);
        using var response = await warren.Client.GetAsync(Info);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, empty.HitsFor(".info"));
    }

    [Fact]
    public async Task Not_found_everywhere_is_a_404_with_the_reason_and_is_remembered_briefly()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.NegativeTtl = TimeSpan.FromMinutes(1), services: s => s.AddSingleton<TimeProvider>(clock));
        const string missing = "github.com/pkg/errors/@v/v0.99.0.info";

        using var first = await warren.Client.GetAsync(missing);
        Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        Assert.Contains("not found", await first.Content.ReadAsStringAsync());
        using var second = await warren.Client.GetAsync(missing);
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        Assert.Equal(1, upstream.HitsFor("v0.99.0.info"));

        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        using var third = await warren.Client.GetAsync(missing);
        Assert.Equal(HttpStatusCode.NotFound, third.StatusCode);
        Assert.Equal(2, upstream.HitsFor("v0.99.0.info"));
    }

    [Fact]
    public async Task Refused_connection_is_a_502_never_a_404_and_is_not_cached()
    {
        var port = Loopback.FreePort();
        await using var warren = await WarrenInstance.StartAsync($"http://127.0.0.1:{port}");
        using var response = await warren.Client.GetAsync(Info);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains($"127.0.0.1:{port}", await response.Content.ReadAsStringAsync());

        // The upstream comes up: the next request succeeds (the failure was not remembered).
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus, port);
        using var again = await warren.Client.GetAsync(Info);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_slow_upstream_is_a_504()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstream.Delay = TimeSpan.FromSeconds(3);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.UpstreamTimeout = TimeSpan.FromMilliseconds(500));
        using var response = await warren.Client.GetAsync(Info);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("timed out", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Off_and_direct_answer_clearly()
    {
        await using var off = await WarrenInstance.StartAsync("off");
        using var r1 = await off.Client.GetAsync(Info);
        Assert.Equal(HttpStatusCode.NotFound, r1.StatusCode);
        Assert.Contains("disabled", await r1.Content.ReadAsStringAsync());

        // Direct mode answers the go command's way, without any network traffic for a path it can judge locally.
        await using var direct = await WarrenInstance.StartAsync("direct");
        using var r2 = await direct.Client.GetAsync("github.com/pkg/@v/list");
        Assert.Equal(HttpStatusCode.NotFound, r2.StatusCode);
        Assert.Contains("invalid github.com import path", await r2.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task No_proxy_modules_never_reach_a_proxy()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        // Matching modules go straight to their origin (here a path direct mode refuses without any traffic).
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.NoProxy = "github.com/pkg");
        using var response = await warren.Client.GetAsync("github.com/pkg/@v/v1.0.0.info");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var list = await warren.Client.GetAsync("github.com/pkg/@v/list");
        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
        Assert.Contains("invalid github.com import path", await list.Content.ReadAsStringAsync());
        Assert.Empty(upstream.Requests);
        using var other = await warren.Client.GetAsync("github.com/fatih/color/@v/list");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
}

using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>The outbound policy of direct mode, on 127.0.0.1 only: loopback is "internal" and denied unless a port is
/// allowed; go-get discovery reaches the made-up public hosts through a loopback server acting as the outbound proxy
/// (operator-chosen, so allowed).</summary>
public sealed class EgressPolicyTests
{
    private const string Secret = "INTERNAL-SECRET-7f3a";

    [Fact]
    public async Task One_allowed_loopback_port_works_and_another_loopback_port_is_refused_without_a_connection()
    {
        await using var corpus = await FakeUpstream.StartAsync(TestPaths.Corpus);
        using var denied = new CountingListener();
        await using var discovery = await StartDiscoveryAsync(new Dictionary<string, string>
        {
            ["gopkg.in/yaml.v2"] = $"gopkg.in/yaml.v2 mod {corpus.Url}",
            ["internal.example/m"] = $"internal.example/m mod http://127.0.0.1:{denied.Port}",
        });
        await using var warren = await StartWarrenAsync(discovery, o => o.EgressAllow = "127.0.0.1:" + corpus.Port);

        using var ok = await warren.Client.GetAsync("gopkg.in/yaml.v2/@v/v2.4.0.info");
        Assert.Equal(200, (int)ok.StatusCode);

        using var refused = await warren.Client.GetAsync("internal.example/m/@v/list");
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Equal(404, (int)refused.StatusCode);
        Assert.Contains($"destination 127.0.0.1:{denied.Port} refused by the egress policy (loopback address); allow it with --egress-allow", body, StringComparison.Ordinal);
        Assert.Equal(0, denied.Connections);
        Assert.Contains("warren_egress_denied_total{reason=\"loopback\"}", warren.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_meta_tag_pointing_git_at_a_denied_port_fails_for_the_go_client_and_nothing_connects_there()
    {
        using var denied = new CountingListener();
        await using var discovery = await StartDiscoveryAsync(new Dictionary<string, string>
        {
            ["public.example/lib"] = $"public.example/lib git http://127.0.0.1:{denied.Port}/internal/repo.git",
        });
        await using var warren = await StartWarrenAsync(discovery);

        var go = await new GoRunner(warren.Url).RunAsync(TestPaths.NewTempDir("egress-go"), "mod", "download", "-json", "public.example/lib@v1.0.0");
        Assert.NotEqual(0, go.ExitCode);
        Assert.True(go.ToString().Contains("404 Not Found", StringComparison.Ordinal), go.ToString());
        Assert.Contains($"127.0.0.1:{denied.Port} refused by the egress policy (loopback address)", go.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, denied.Connections);
    }

    [Fact]
    public async Task A_cross_host_redirect_is_not_followed_even_to_an_allowed_destination()
    {
        await using var metadata = await FakeUpstream.StartAsync(TestPaths.NewTempDir("metadata"));
        await using var discovery = await FakeUpstream.StartAsync(TestPaths.NewTempDir("meta"));
        discovery.Intercept = context =>
        {
            context.Response.StatusCode = context.Request.Method == "CONNECT" ? 405 : 302;
            context.Response.Headers.Location = $"http://127.0.0.1:{metadata.Port}/latest/meta-data/iam/security-credentials/";
            return Task.FromResult(true);
        };

        // The metadata server's port is even allowed: only the redirect rule stands between it and Warren.
        await using var warren = await StartWarrenAsync(discovery, o => o.EgressAllow = "127.0.0.1:" + metadata.Port);
        using var response = await warren.Client.GetAsync("redirecting.example/m/@v/list");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(404, (int)response.StatusCode);
        Assert.Contains("redirect from redirecting.example to 127.0.0.1 not followed: cross-host redirects are refused by the egress policy", body, StringComparison.Ordinal);
        Assert.Empty(metadata.Requests);
    }

    [Fact]
    public async Task An_internal_servers_body_is_never_echoed_to_the_client()
    {
        await using var internalServer = await FakeUpstream.StartAsync(TestPaths.NewTempDir("internal"));
        internalServer.Intercept = async context =>
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync(Secret + " root:x:0:0:root:/root:/bin/bash\n");
            return true;
        };
        await using var discovery = await StartDiscoveryAsync(new Dictionary<string, string>
        {
            ["leaky.example/m"] = $"leaky.example/m mod {internalServer.Url}",
        });

        // Allowed on purpose: the body must stay unseen even when the destination may be reached.
        await using var warren = await StartWarrenAsync(discovery, o => o.EgressAllow = "127.0.0.1:" + internalServer.Port);
        foreach (var path in new[] { "leaky.example/m/@v/list", "leaky.example/m/@v/v1.0.0.info", "leaky.example/m/@latest" })
        {
            using var response = await warren.Client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(404, (int)response.StatusCode);
            Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
            Assert.Contains("404", body, StringComparison.Ordinal);
        }

        Assert.NotEmpty(internalServer.Requests);
    }

    [Theory]
    [InlineData("127.0.0.1/x", "destination 127.0.0.1:443 refused by the egress policy (loopback address)")]
    [InlineData("10.0.0.5/x", "destination 10.0.0.5:443 refused by the egress policy (private address)")]
    [InlineData("169.254.169.254/latest", "destination 169.254.169.254:443 refused by the egress policy (link-local address)")]
    [InlineData("100.64.0.1/x", "destination 100.64.0.1:443 refused by the egress policy (carrier-grade NAT address)")]
    public async Task Module_paths_naming_internal_addresses_are_refused_before_any_packet(string module, string expected)
    {
        // No outbound proxy: the request would go straight to the address. The policy refuses the literal before
        // connecting, so no packet leaves (and the answer comes at once, without a connect timeout).
        await using var warren = await WarrenInstance.StartAsync("direct", o => o.ConnectTimeout = TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        using var response = await warren.Client.GetAsync(module + "/@v/list");
        clock.Stop();
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(404, (int)response.StatusCode);
        Assert.Contains(expected, body, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", body.TrimEnd('\n'), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.True(warren.Metrics.EgressDeniedTotal > 0);
    }

    [Fact]
    public async Task Through_an_outbound_proxy_the_policy_applies_to_the_host_asked_for()
    {
        await using var discovery = await StartDiscoveryAsync(new Dictionary<string, string>
        {
            ["blocked.example/m"] = "blocked.example/m mod https://proxy.golang.org",
        });
        await using var warren = await StartWarrenAsync(discovery, o => o.EgressDeny = "blocked.example");

        using var literal = await warren.Client.GetAsync("10.0.0.5/x/@v/list");
        Assert.Equal(404, (int)literal.StatusCode);
        Assert.Contains("destination 10.0.0.5:443 refused by the egress policy (private address)", await literal.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var denied = await warren.Client.GetAsync("blocked.example/m/@v/list");
        Assert.Equal(404, (int)denied.StatusCode);
        var deniedBody = await denied.Content.ReadAsStringAsync();
        Assert.True(deniedBody.Contains("destination blocked.example:80 refused by the egress policy (listed in --egress-deny)", StringComparison.Ordinal), deniedBody);

        // Neither was asked of the proxy.
        Assert.Empty(discovery.Requests);
    }

    [Fact]
    public async Task Direct_patterns_limit_which_paths_use_direct_mode()
    {
        await using var corpus = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var discovery = await StartDiscoveryAsync(new Dictionary<string, string>
        {
            ["gopkg.in/yaml.v2"] = $"gopkg.in/yaml.v2 mod {corpus.Url}",
            ["other.example/m"] = $"other.example/m mod {corpus.Url}",
        });
        await using var warren = await StartWarrenAsync(discovery, o =>
        {
            o.EgressAllow = "127.0.0.1:" + corpus.Port;
            o.Direct = "gopkg.in";
        });

        using var allowed = await warren.Client.GetAsync("gopkg.in/yaml.v2/@v/list");
        Assert.Equal(200, (int)allowed.StatusCode);
        var asked = discovery.Requests.Count;

        using var refused = await warren.Client.GetAsync("other.example/m/@v/list");
        Assert.Equal(404, (int)refused.StatusCode);
        Assert.Contains("direct mode is not enabled for this module path", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(asked, discovery.Requests.Count);
    }

    [Fact]
    public async Task Bad_egress_and_direct_entries_stop_start_up_with_one_line_each()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => WarrenInstance.StartAsync("direct", o =>
        {
            o.EgressAllow = "127.0.0.1:99999,good.example,10.0.0.0/40";
            o.EgressDeny = "[::1";
            o.Direct = "ok.example,bad[";
        }));
        var text = ex.ToString();
        Assert.Contains("egress-allow \"127.0.0.1:99999\": invalid port", text, StringComparison.Ordinal);
        Assert.Contains("egress-allow \"10.0.0.0/40\": invalid prefix length", text, StringComparison.Ordinal);
        Assert.Contains("egress-deny \"[::1\": missing ']'", text, StringComparison.Ordinal);
        Assert.Contains("direct: invalid pattern \"bad[\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("good.example", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Configured_upstreams_the_sumdb_and_the_outbound_proxy_are_allowed_exactly_as_configured()
    {
        var endpoints = Egress.EgressServices.ImplicitEndpoints(new Warren.Server.Configuration.WarrenOptions
        {
            Upstream = "http://127.0.0.1:3100,https://athens.corp.example|direct",
            SumDb = "sum.corp.example+abcd1234+AAAA http://127.0.0.1:3200",
            OutboundProxy = "http://10.9.9.9:3128",
            VulnDb = "off",
        }).ToList();
        Assert.Equal([("127.0.0.1", 3100), ("athens.corp.example", 443), ("127.0.0.1", 3200), ("10.9.9.9", 3128)], endpoints);

        var byName = Egress.EgressServices.ImplicitEndpoints(new Warren.Server.Configuration.WarrenOptions { Upstream = "off", SumDb = "sum.golang.org", OutboundProxy = "http://proxy.corp.example:8080", VulnDb = "off" });
        Assert.Equal([("sum.golang.org", 443), ("proxy.corp.example", 8080)], byName);

        // The vulnerability database's source (default https://vuln.go.dev) is an operator-chosen endpoint too.
        Assert.Equal([("127.0.0.1", 3300)], Egress.EgressServices.ImplicitEndpoints(new Warren.Server.Configuration.WarrenOptions { Upstream = "off", VulnDb = "http://127.0.0.1:3300/vuln" }));
        Assert.Equal([("vuln.go.dev", 443)], Egress.EgressServices.ImplicitEndpoints(new Warren.Server.Configuration.WarrenOptions { Upstream = "off" }));
    }

    /// <summary>A loopback server answering ?go-get=1 (as the outbound proxy, so for any host) with the meta tag of
    /// the longest matching path; CONNECT (https) is refused so that the GOINSECURE http retry follows.</summary>
    private static async Task<FakeUpstream> StartDiscoveryAsync(Dictionary<string, string> tags)
    {
        var discovery = await FakeUpstream.StartAsync(TestPaths.NewTempDir("meta"));
        discovery.Intercept = async context =>
        {
            var target = context.Request.Host.Host + context.Request.Path.Value?.TrimEnd('/');
            var tag = tags.Where(t => target == t.Key || target.StartsWith(t.Key + "/", StringComparison.Ordinal)).Select(t => t.Value).FirstOrDefault();
            if (context.Request.Query.ContainsKey("go-get") && tag is not null)
            {
                await context.Response.WriteAsync($"<html><head><meta name=\"go-import\" content=\"{tag}\"></head></html>");
                return true;
            }

            context.Response.StatusCode = context.Request.Method == "CONNECT" ? 405 : 404;
            return true;
        };
        return discovery;
    }

    private static Task<WarrenInstance> StartWarrenAsync(FakeUpstream discovery, Action<Warren.Server.Configuration.WarrenOptionsBuilder>? configure = null) =>
        WarrenInstance.StartAsync("direct", o =>
        {
            o.OutboundProxy = discovery.Url;
            o.OutboundProxyBypass = "127.0.0.1,localhost";
            o.GoInsecure = "*.example,gopkg.in";
            o.GitConfig = "/dev/null";
            configure?.Invoke(o);
        });
}

using System.Net;
using Warren.Fetch.Direct.Egress;

namespace Warren.Fetch.Direct.Tests.Egress;

public sealed class EgressPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("10.0.0.5", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("100.127.255.254", "carrier-grade NAT")]
    [InlineData("fc00::1", "unique-local")]
    [InlineData("fd12:3456::1", "unique-local")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:10.0.0.5", "private")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local")]
    [InlineData("2002:0a00:0005::1", "private")]
    public void Internal_addresses_are_classified(string address, string expected) =>
        Assert.Equal(expected, EgressAddress.Classify(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_are_not(string address) => Assert.Null(EgressAddress.Classify(IPAddress.Parse(address)));

    [Theory]
    [InlineData("git.corp.example", "git.corp.example", null, null)]
    [InlineData("git.corp.example:8443", "git.corp.example", null, 8443)]
    [InlineData("*.corp.example", "corp.example", null, null)]
    [InlineData("10.0.0.5", null, "10.0.0.5/32", null)]
    [InlineData("10.0.0.5:443", null, "10.0.0.5/32", 443)]
    [InlineData("10.1.2.3/8", null, "10.0.0.0/8", null)]
    [InlineData("10.0.0.0/8:22", null, "10.0.0.0/8", 22)]
    [InlineData("::1", null, "::1/128", null)]
    [InlineData("fd00::/8", null, "fd00::/8", null)]
    [InlineData("[::1]", null, "::1/128", null)]
    [InlineData("[::1]:8080", null, "::1/128", 8080)]
    [InlineData("[fd00::]/8:443", null, "fd00::/8", 443)]
    [InlineData("[fd00::/8]:443", null, "fd00::/8", 443)]
    public void Entries_parse(string text, string? host, string? network, int? port)
    {
        Assert.True(EgressRule.TryParse(text, out var rule, out var error), error);
        Assert.Equal(host, rule.Host);
        Assert.Equal(network, rule.Network is null ? null : $"{rule.Network}/{rule.PrefixLength}");
        Assert.Equal(port, rule.Port);
    }

    [Theory]
    [InlineData("10.0.0.5:0", "invalid port")]
    [InlineData("10.0.0.5:70000", "invalid port")]
    [InlineData("host:http", "invalid port")]
    [InlineData("10.0.0/8", "invalid IP address")]
    [InlineData("10.0.0.0/33", "invalid prefix length")]
    [InlineData("fd00::/129", "invalid prefix length")]
    [InlineData("[::1", "missing ']'")]
    [InlineData("[10.0.0.1]:80", "brackets are for IPv6")]
    [InlineData("bad_host!", "not a host name")]
    [InlineData("-x.example", "not a host name")]
    public void Bad_entries_are_refused_with_a_reason(string text, string expected)
    {
        Assert.False(EgressRule.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_list_reports_one_line_per_bad_entry()
    {
        var rules = EgressRule.ParseList("10.0.0.5:443, bad!, git.corp.example  ,10.0.0.0/40", out var errors);
        Assert.Equal(2, rules.Count);
        Assert.Equal(2, errors.Count);
        Assert.StartsWith("\"bad!\":", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("\"10.0.0.0/40\":", errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Loopback_is_denied_by_default_and_allowed_for_exactly_the_listed_port()
    {
        var policy = Policy("127.0.0.1:8080");
        Assert.Null(policy.Decide("127.0.0.1", IPAddress.Loopback, 8080));
        var refused = policy.Decide("127.0.0.1", IPAddress.Loopback, 8081);
        Assert.NotNull(refused);
        Assert.Equal("destination 127.0.0.1:8081 refused by the egress policy (loopback address); allow it with --egress-allow", refused.Message);
        Assert.NotNull(policy.Decide("::1", IPAddress.IPv6Loopback, 8080));
    }

    [Fact]
    public void A_host_name_entry_allows_what_the_name_resolves_to_but_not_the_address_under_another_name()
    {
        var policy = Policy("git.corp.example");
        var internalAddress = IPAddress.Parse("10.0.0.7");
        Assert.Null(policy.Decide("git.corp.example", internalAddress, 443));
        Assert.Null(policy.Decide("GIT.corp.example.", internalAddress, 22));
        var other = policy.Decide("evil.example", internalAddress, 443);
        Assert.Equal("destination evil.example:443 (10.0.0.7) refused by the egress policy (private address); allow it with --egress-allow", other!.Message);
    }

    [Fact]
    public void An_explicit_deny_wins_over_allow_and_over_configured_endpoints()
    {
        var policy = new EgressPolicy(
            EgressRule.ParseList("10.0.0.0/8", out _),
            EgressRule.ParseList("10.0.0.9, proxy.corp.example", out _),
            [("proxy.corp.example", 443)]);
        Assert.Null(policy.Decide("x", IPAddress.Parse("10.0.0.8"), 443));
        Assert.Equal("deny-list", policy.Decide("x", IPAddress.Parse("10.0.0.9"), 443)!.Kind);
        Assert.Equal("deny-list", policy.CheckName("proxy.corp.example", 443)!.Kind);
        Assert.Equal("destination 10.0.0.9:443 refused by the egress policy (listed in --egress-deny)", policy.CheckName("10.0.0.9", 443)!.Message);
        Assert.Null(policy.Decide("x", IPAddress.Parse("8.8.8.8"), 443));
    }

    [Fact]
    public void Public_addresses_can_be_denied()
    {
        var policy = new EgressPolicy(deny: EgressRule.ParseList("203.0.113.0/24:443", out _));
        Assert.NotNull(policy.Decide("x", IPAddress.Parse("203.0.113.9"), 443));
        Assert.Null(policy.Decide("x", IPAddress.Parse("203.0.113.9"), 80));
    }

    [Fact]
    public void Configured_endpoints_are_allowed_only_on_their_port()
    {
        var policy = new EgressPolicy(implicitAllow: [("127.0.0.1", 3001), ("athens.corp.example", 443)]);
        Assert.Null(policy.Decide("127.0.0.1", IPAddress.Loopback, 3001));
        Assert.NotNull(policy.Decide("127.0.0.1", IPAddress.Loopback, 3002));
        Assert.Null(policy.Decide("athens.corp.example", IPAddress.Parse("10.1.1.1"), 443));
        Assert.NotNull(policy.Decide("athens.corp.example", IPAddress.Parse("10.1.1.1"), 80));
    }

    [Theory]
    [InlineData("10.0.0.5", 443)]
    [InlineData("169.254.169.254", 80)]
    [InlineData("[::ffff:127.0.0.1]", 443)]
    [InlineData("localhost", 443)]
    [InlineData("db.localhost", 443)]
    public void Literals_and_localhost_names_are_refused_without_resolving(string host, int port)
    {
        var resolved = 0;
        var reported = new List<EgressRefusal>();
        var policy = new EgressPolicy(resolve: (_, _) => { resolved++; return Task.FromResult(Array.Empty<IPAddress>()); }, onDenied: reported.Add);
        Assert.NotNull(policy.CheckName(host, port));
        Assert.Equal(0, resolved);
        Assert.Single(reported);
    }

    [Fact]
    public async Task Resolution_keeps_only_allowed_addresses_and_refuses_when_none_is()
    {
        IPAddress[] answer = [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("93.184.216.34")];
        var reported = new List<EgressRefusal>();
        var policy = new EgressPolicy(resolve: (_, _) => Task.FromResult(answer), onDenied: reported.Add);
        var (allowed, refusal) = await policy.ResolveAsync("mixed.example", 443, CancellationToken.None);
        Assert.Null(refusal);
        Assert.Equal([IPAddress.Parse("93.184.216.34")], allowed);

        var (_, strict) = await policy.ResolveAsync("mixed.example", 22, CancellationToken.None, requireAll: true);
        Assert.Equal("private", strict!.Kind);

        answer = [IPAddress.Parse("::ffff:169.254.169.254")];
        var (none, metadata) = await policy.ResolveAsync("metadata.example", 80, CancellationToken.None);
        Assert.Empty(none);
        Assert.Equal("destination metadata.example:80 (169.254.169.254) refused by the egress policy (link-local address); allow it with --egress-allow", metadata!.Message);
        Assert.Equal(2, reported.Count);
    }

    [Fact]
    public void No_proxy_lists_match_like_curl()
    {
        Assert.True(NoProxyList.Matches("127.0.0.1,localhost", "127.0.0.1", 80));
        Assert.True(NoProxyList.Matches(".corp.example", "git.corp.example", 443));
        Assert.True(NoProxyList.Matches("corp.example:443", "corp.example", 443));
        Assert.False(NoProxyList.Matches("corp.example:443", "corp.example", 80));
        Assert.False(NoProxyList.Matches("corp.example", "notcorp.example", 443));
        Assert.True(NoProxyList.Matches("*", "anything", 1));
    }

    private static EgressPolicy Policy(string allow) => new(EgressRule.ParseList(allow, out _));
}

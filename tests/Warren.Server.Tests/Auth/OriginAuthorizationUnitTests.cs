using System.Text;
using Warren.Server.Auth;
using Warren.Server.Configuration;

namespace Warren.Server.Tests.Auth;

public sealed class OriginAuthorizationUnitTests
{
    [Theory]
    [InlineData("", false, "")]
    [InlineData("Bearer abc", false, "only Basic")]
    [InlineData("Basic !!!", false, "not base64")]
    public void Unusable_authorization_values_are_refused_with_a_reason(string header, bool ok, string problem)
    {
        Assert.Equal(ok, OriginAuthorizationMiddleware.TryBasic(header, out _, out _, out var why));
        Assert.Contains(problem, why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice:s3cret:with:colons", true, "alice", "s3cret:with:colons")]
    [InlineData(":token-only", true, "", "token-only")]
    [InlineData("no-colon", false, "", "")]
    [InlineData("alice:", false, "", "")]
    [InlineData("alice:line\nbreak", false, "", "")]
    public void Basic_values_split_at_the_first_colon(string decoded, bool ok, string user, string password)
    {
        var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(decoded));
        Assert.Equal(ok, OriginAuthorizationMiddleware.TryBasic(header, out var u, out var p, out _));
        Assert.Equal(user, u);
        Assert.Equal(password, p);
    }

    [Theory]
    [InlineData("/github.com/x/y/@v/v1.0.0.zip", "github.com/x/y", "v1.0.0", "zip")]
    [InlineData("/github.com/!x/y/@v/list", "github.com/X/y", null, "list")]
    [InlineData("/github.com/x/y/@latest", "github.com/x/y", null, "latest")]
    [InlineData("/github.com/x/y/@v/main.info", "github.com/x/y", "main", "query")]
    [InlineData("/sumdb/sum.golang.org/lookup/github.com/x/y@v1.0.0", "github.com/x/y", "v1.0.0", "lookup")]
    public void Requests_name_their_module(string path, string module, string? version, string artifact)
    {
        Assert.True(OriginAuthorizationMiddleware.TryTarget(path, out var m, out var v, out var a));
        Assert.Equal((module, version, artifact), (m, v, a));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/sumdb/sum.golang.org/latest")]
    [InlineData("/sumdb/sum.golang.org/tile/8/0/000")]
    public void Other_paths_name_no_module(string path) =>
        Assert.False(OriginAuthorizationMiddleware.TryTarget(path, out _, out _, out _));

    [Theory]
    [InlineData("github.com/corp", "github.com/corp/repo", "github.com/corp")]
    [InlineData("github.com/corp", "github.com/Corp/repo", "github.com/corp")]
    [InlineData("github.com/Corp", "github.com/corp/repo/v2", "github.com/Corp")]
    [InlineData("other.example, *.corp.example", "git.corp.example/x", "*.corp.example")]
    [InlineData("github.com/corp", "github.com/corporate/repo", null)]
    [InlineData("", "github.com/corp/repo", null)]
    public void Patterns_match_path_prefixes_whatever_the_case(string patterns, string module, string? expected) =>
        Assert.Equal(expected, OriginAuthorizer.MatchingPattern(patterns, module));

    [Fact]
    public void The_decision_cache_forgets_expired_entries_and_evicts_the_oldest_when_full()
    {
        var clock = new Clock();
        var cache = new OriginDecisionCache(3, clock);
        var allowed = new OriginDecision(OriginVerdict.Allowed, "https://h/r", "");
        for (var i = 0; i < 4; i++)
        {
            cache.Set("k" + i, allowed, clock.GetUtcNow() + TimeSpan.FromMinutes(5));
            clock.Now += TimeSpan.FromSeconds(1);
        }

        Assert.Equal(3, cache.Count);
        Assert.False(cache.TryGet("k0", out _));
        Assert.True(cache.TryGet("k3", out var d));
        Assert.Same(allowed, d);
        clock.Now += TimeSpan.FromMinutes(5);
        Assert.False(cache.TryGet("k3", out _));
        cache.Set("k4", allowed, clock.GetUtcNow() + TimeSpan.FromMinutes(5));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Bad_patterns_and_a_negative_TTL_stop_start_up_with_one_line_each()
    {
        var options = new WarrenOptions { Root = "store", Upstream = "off", AuthorizeByOrigin = "github.com/corp,[bad", OriginAuthzTtl = TimeSpan.FromMinutes(-1) };
        var result = new WarrenOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("authorize-by-origin \"github.com/corp,[bad\": invalid pattern", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("origin authz TTL must not be negative", StringComparison.Ordinal));

        var good = new WarrenOptions { Root = "store", Upstream = "off", AuthorizeByOrigin = "github.com/corp,*.corp.example" };
        Assert.True(new WarrenOptionsValidator().Validate(null, good).Succeeded);
    }

    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}

using Warren.Server.Auth;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Auth;

/// <summary>The per-principal (or per-address) token bucket: 429 with Retry-After, /healthz exempt, partitions bounded.</summary>
public sealed class RateLimitTests
{
    private const string Info = "github.com/mattn/go-isatty/@v/v0.0.14.info";

    [Fact]
    public async Task A_principal_over_its_rate_gets_429_with_Retry_After_while_another_principal_and_healthz_are_unaffected()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var file = AuthTestFiles.NewFile();
        var busy = AuthTestFiles.Add(file, "busy", "*");
        var quiet = AuthTestFiles.Add(file, "quiet", "*");
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o =>
        {
            o.AuthFile = file;
            o.RateLimit = 0.5;
            o.RateLimitBurst = 5;
        });

        var statuses = new List<int>();
        HttpResponseMessage? limited = null;
        string limitedBody = "";
        for (var i = 0; i < 20; i++)
        {
            var (status, body, response) = await AuthTestFiles.GetAsync(warren.Client, Info, AuthTestFiles.Bearer(busy));
            statuses.Add(status);
            if (status == 429 && limited is null)
            {
                limited = response;
                limitedBody = body;
            }
        }

        // A burst of 5, then one token every 2 s (a slow machine may see one or two refills during the loop).
        Assert.InRange(statuses.Count(s => s == 200), 5, 7);
        Assert.InRange(statuses.Count(s => s == 429), 13, 15);
        Assert.NotNull(limited);
        var retryAfter = limited!.Headers.RetryAfter!.Delta!.Value;
        Assert.InRange(retryAfter.TotalSeconds, 1, 2);
        Assert.Equal($"too many requests: token \"busy\" is over the rate limit; retry after {retryAfter.TotalSeconds} s\n", limitedBody);

        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, Info, AuthTestFiles.Bearer(quiet))).Status);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, "healthz")).Status);
        }
    }

    [Fact]
    public async Task Anonymous_clients_are_limited_by_address_and_0_turns_the_limit_off()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var file = AuthTestFiles.NewFile();
        AuthTestFiles.Add(file, "someone", "*");
        await using (var limited = await WarrenInstance.StartAsync(upstream.Url, o =>
        {
            o.AuthFile = file;
            o.Anonymous = "github.com/mattn";
            o.RateLimit = 1;
            o.RateLimitBurst = 3;
        }))
        {
            var statuses = new List<int>();
            for (var i = 0; i < 8; i++)
            {
                statuses.Add((await AuthTestFiles.GetAsync(limited.Client, Info)).Status);
            }

            Assert.InRange(statuses.Count(s => s == 200), 3, 5);
            Assert.Contains(429, statuses);
            Assert.Contains("too many requests: this address is over the rate limit", (await AuthTestFiles.GetAsync(limited.Client, Info)).Body, StringComparison.Ordinal);
        }

        await using var off = await WarrenInstance.StartAsync(upstream.Url, o =>
        {
            o.AuthFile = file;
            o.Anonymous = "github.com/mattn";
            o.RateLimit = 0;
            o.RateLimitBurst = 1;
        });
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(200, (await AuthTestFiles.GetAsync(off.Client, Info)).Status);
        }
    }

    [Fact]
    public void Partitions_are_bounded_and_IPv6_clients_are_grouped_by_64()
    {
        using var limiter = new PrincipalRateLimiter(1, 1, TimeProvider.System);
        for (var i = 0; i < PrincipalRateLimiter.MaxPartitions + 500; i++)
        {
            limiter.TryAcquire("ip:10.0." + (i / 256) + "." + (i % 256), out _);
        }

        Assert.InRange(limiter.Count, PrincipalRateLimiter.MaxPartitions, PrincipalRateLimiter.MaxPartitions + 1);
        Assert.Equal(
            PrincipalRateLimiter.PartitionOf(System.Net.IPAddress.Parse("2001:db8:1:2:aaaa::1")),
            PrincipalRateLimiter.PartitionOf(System.Net.IPAddress.Parse("2001:db8:1:2:bbbb::2")));
        Assert.Equal("ip:192.0.2.1", PrincipalRateLimiter.PartitionOf(System.Net.IPAddress.Parse("::ffff:192.0.2.1")));
    }

    [Fact]
    public void A_personal_Warren_on_loopback_without_an_auth_file_is_not_limited_a_shared_one_is()
    {
        Assert.False(AccessControl.RateLimitApplies(new WarrenOptions { Listen = "127.0.0.1:3000" }));
        Assert.False(AccessControl.RateLimitApplies(new WarrenOptions { Listen = "localhost:3000" }));
        Assert.True(AccessControl.RateLimitApplies(new WarrenOptions { Listen = "0.0.0.0:3000" }));
        Assert.True(AccessControl.RateLimitApplies(new WarrenOptions { Listen = "127.0.0.1:3000", AuthFile = "auth.json" }));
        Assert.False(AccessControl.RateLimitApplies(new WarrenOptions { Listen = "0.0.0.0:3000", RateLimit = 0 }));
    }
}

using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.SumDb;

/// <summary>Private module paths never reach the public upstream proxy or the public checksum database, even though
/// the go clients are set up the organisation-wide way (GOSUMDB = Warren's hosted database, GONOSUMDB and GOPRIVATE
/// empty), and even when a misconfigured client asks Warren's /sumdb/ proxy about them.</summary>
public sealed class PrivatePathLeakTests
{
    private const string PrivateModule = "github.com/pkg/errors";

    [Fact]
    public async Task Upstream_and_public_sumdb_see_no_private_path_while_go_builds_a_program_using_private_and_public_modules()
    {
        await using var git = await GitCorpusServer.StartAsync();
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var publicDb = await TestSumDb.StartAsync();
        foreach (var e in Manifest.All)
        {
            publicDb.Add(e.Path, e.Version, e.ZipHash, e.ModHash);
        }

        var (signer, verifierKey) = HostedSumDbGoTests.NewKey();
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o =>
        {
            o.SumDb = $"{publicDb.VerifierKey} {publicDb.Url}";
            o.HostedSumDb = signer;
            o.Private = "github.com/pkg";
            o.NoProxy = "github.com/pkg";
            o.NoSumDb = "github.com/pkg";
            o.GitConfig = git.GitConfig;
            o.OutboundProxy = git.Url;
            o.OutboundProxyBypass = "127.0.0.1,localhost";
            o.GoInsecure = GitCorpusServer.GoInsecure;
        });

        var work = TestPaths.NewTempDir("leak");
        File.WriteAllText(Path.Combine(work, "go.mod"), """
            module example.com/leakcheck

            go 1.19

            require (
            	github.com/BurntSushi/toml v1.2.0
            	github.com/pkg/errors v0.9.1
            )
            """);
        File.WriteAllText(Path.Combine(work, "main.go"), """
            package main

            import (
            	"fmt"

            	"github.com/BurntSushi/toml"
            	"github.com/pkg/errors"
            )

            func main() {
            	var v struct{ A int }
            	_, err := toml.Decode("A = 1", &v)
            	fmt.Println(errors.Wrap(err, "decode"), v.A)
            }
            """);

        var go = HostedSumDbGoTests.GoVerifyingWith(warren.Url, verifierKey).With("GOPRIVATE", "").With("GONOPROXY", "");
        var build = await go.RunAsync(work, "build", "-o", Path.Combine(work, "leakcheck"), ".");
        Assert.True(build.ExitCode == 0, build.ToString());
        var sums = File.ReadAllText(Path.Combine(work, "go.sum"));
        Assert.Contains("github.com/pkg/errors v0.9.1 h1:", sums, StringComparison.Ordinal);
        Assert.Contains($"github.com/BurntSushi/toml v1.2.0 {Manifest.Get("github.com/BurntSushi/toml", "v1.2.0").ZipHash}", sums, StringComparison.Ordinal);

        // The private module was logged in the hosted database (the go client verified it there) ...
        using (var lookup = await warren.Client.GetAsync($"sumdb/{HostedSumDbGoTests.Name}/lookup/{PrivateModule}@v0.9.1"))
        {
            Assert.Equal(200, (int)lookup.StatusCode);
        }

        // ... and a misconfigured client asking the public database through Warren is refused without a request out.
        using (var leak = await warren.Client.GetAsync($"sumdb/{TestSumDbName(publicDb)}/lookup/{PrivateModule}@v0.9.1"))
        {
            Assert.Equal(403, (int)leak.StatusCode);
            Assert.Contains("private", await leak.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The recorders saw public traffic (so they were listening) and nothing private.
        Assert.Contains(upstream.Requests, r => r.Contains("burnt!sushi/toml", StringComparison.Ordinal));
        Assert.Contains(publicDb.Requests, r => r.Contains("burnt!sushi/toml", StringComparison.Ordinal));
        Assert.DoesNotContain(upstream.Requests, r => r.Contains("pkg", StringComparison.Ordinal));
        Assert.DoesNotContain(publicDb.Requests, r => r.Contains("pkg", StringComparison.Ordinal));
    }

    private static string TestSumDbName(TestSumDb db) => db.VerifierKey.Split('+')[0];
}

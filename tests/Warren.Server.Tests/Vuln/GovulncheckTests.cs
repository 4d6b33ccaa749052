using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Vuln;

/// <summary>Debian 12's govulncheck (an early-2023 build, which reads the older layout: index.json, MODULE.json) against
/// Warren's /vuln/ mirror of a test database, with the modules from Warren too. Slow: its own class.</summary>
public sealed class GovulncheckTests
{
    private const string Govulncheck = "/usr/bin/govulncheck";

    [Fact]
    public async Task Debian_govulncheck_reports_the_advisory_with_its_call_stack_over_http_and_file_sources()
    {
        Assert.True(File.Exists(Govulncheck), "govulncheck is not installed (apt-get install govulncheck)");
        var dir = TestVulnDb.Write();
        await using var upstream = await VulnDbUpstream.StartAsync(dir);
        await using var modules = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var work = ValidateClosed.Copy();
        var home = TestPaths.NewTempDir("govulncheck");

        string overHttp;
        await using (var warren = await WarrenInstance.StartAsync(modules.Url, o => o.VulnDb = upstream.Url))
        {
            overHttp = await RunAsync(warren.Url, work, home);
        }

        Assert.Contains(TestVulnDb.Id, overHttp);
        Assert.Contains("Found in: github.com/dustin/go-humanize@v1.0.0", overHttp);
        Assert.Contains("Fixed in: github.com/dustin/go-humanize@v1.0.1", overHttp);
        Assert.Contains("calls github.com/dustin/go-humanize.Bytes", overHttp);

        // The same database through file://, the upstream server gone.
        await upstream.DisposeAsync();
        string overFile;
        await using (var warren = await WarrenInstance.StartAsync(modules.Url, o => o.VulnDb = new Uri(dir).AbsoluteUri))
        {
            overFile = await RunAsync(warren.Url, work, home);
        }

        Assert.Equal(Findings(overHttp), Findings(overFile));
    }

    private static async Task<string> RunAsync(string warren, string work, string home)
    {
        var env = GoRunner.IsolatedEnvironment(warren, home);
        env["GOVULNDB"] = warren + "/vuln";

        // govulncheck caches the database by host name (not port) in the module cache: start each run afresh.
        TestPaths.TryDeleteDirectory(Path.Combine(env["GOMODCACHE"], "cache", "download", "vulndb"));
        var build = await Processes.RunAsync(TestPaths.RequireGo(), work, env, ["build", "./..."], timeout: TimeSpan.FromMinutes(8));
        Assert.True(build.ExitCode == 0, build.ToString());
        var result = await Processes.RunAsync(Govulncheck, work, env, ["./..."], timeout: TimeSpan.FromMinutes(8));

        // Exit 3: vulnerabilities found (this build exits non-zero when it reports any).
        Assert.True(result.ExitCode != 0 && !result.Stderr.Contains("govulncheck: ", StringComparison.Ordinal) || result.Stdout.Contains(TestVulnDb.Id, StringComparison.Ordinal), result.ToString());
        return result.Stdout + result.Stderr;
    }

    /// <summary>The report without its header (which names the database URL).</summary>
    private static string Findings(string output) => output[output.IndexOf("Your code is affected", StringComparison.Ordinal)..];
}

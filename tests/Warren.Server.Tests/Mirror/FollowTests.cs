using System.Globalization;
using System.Text.RegularExpressions;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Mirror;

/// <summary>A mirror chain on loopback: core (the corpus as upstream) → regional (--follow core/index) → edge
/// (--upstream regional|core), with the real go client.</summary>
public sealed class FollowTests
{
    private static readonly string[] All = Manifest.All.Select(e => e.ToString()).ToArray();

    private static async Task<int> ZipsServedAsync(HttpClient http, string url)
    {
        var metrics = await http.GetStringAsync(url + "/metrics");
        var match = Regex.Match(metrics, "^warren_http_requests_total\\{route=\"zip\",status=\"200\"\\} ([0-9]+)", RegexOptions.Multiline);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Versions a follower is done with in this process (fetched or found stored).</summary>
    private static async Task<int> FollowedAsync(HttpClient http, string url)
    {
        var metrics = await http.GetStringAsync(url + "/metrics");
        return new[] { "fetched", "present" }.Sum(outcome =>
        {
            var match = Regex.Match(metrics, $"^warren_follow_versions_total\\{{outcome=\"{outcome}\"\\}} ([0-9]+)", RegexOptions.Multiline);
            return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        });
    }

    private static async Task<int> FeedCountAsync(HttpClient http, string url) =>
        (await http.GetStringAsync(url + "/index")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    private static async Task WaitForAsync(Func<Task<bool>> done, TimeSpan limit, string what)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_regional_node_follows_the_core_before_anyone_asks_and_an_edge_serves_the_corpus_with_the_core_gone()
    {
        var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var core = await WarrenInstance.StartAsync(upstream.Url);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var warm = await new GoRunner(core.Url).RunAsync(TestPaths.NewTempDir("core"), ["mod", "download", "-json", .. All]);
        Assert.True(warm.ExitCode == 0, warm.ToString());
        Assert.Equal(262, await FeedCountAsync(http, core.Url));

        // The regional node follows the core's feed; nobody asks it for anything.
        await using var regional = await WarrenInstance.StartAsync(core.Url, o =>
        {
            o.Follow = core.Url + "/index";
            o.FollowInterval = TimeSpan.FromSeconds(1);
        });
        await WaitForAsync(async () => await FollowedAsync(http, regional.Url) == 262, TimeSpan.FromMinutes(3), "the regional node to hold the corpus");
        Assert.Equal(262, await FeedCountAsync(http, regional.Url));
        Assert.Equal(524, await ZipsServedAsync(http, core.Url));
        Assert.Contains("warren_follow_versions_total{outcome=\"fetched\"} 262", await http.GetStringAsync(regional.Url + "/metrics"), StringComparison.Ordinal);

        // The core goes away; an edge node whose chain is regional|core serves the whole corpus.
        await core.DisposeAsync();
        await upstream.DisposeAsync();
        await using var edge = await WarrenInstance.StartAsync($"{regional.Url}|{core.Url}");
        var result = await new GoRunner(edge.Url).RunAsync(TestPaths.NewTempDir("edge"), ["mod", "download", "-json", .. All]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var objects = GoRunner.JsonStream(result.Stdout);
        Assert.Equal(262, objects.Count);
        Assert.All(objects, o => Assert.Equal(Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!).ZipHash, o.GetProperty("Sum").GetString()));
    }

    [Fact]
    public async Task A_follower_killed_mid_sync_resumes_and_fetches_nothing_twice()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var core = await WarrenInstance.StartAsync(upstream.Url);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var warm = await new GoRunner(core.Url).RunAsync(TestPaths.NewTempDir("core"), ["mod", "download", "-json", .. All]);
        Assert.True(warm.ExitCode == 0, warm.ToString());
        var before = await ZipsServedAsync(http, core.Url);

        var root = TestPaths.NewTempDir("regional");
        string[] follow = ["--follow", core.Url + "/index", "--follow-interval", "00:00:01", "--follow-concurrency", "2"];
        using (var first = await WarrenProcess.StartAsync(root, core.Url, follow))
        {
            await WaitForAsync(async () => await FeedCountAsync(http, first.Url) >= 40, TimeSpan.FromMinutes(2), "the follower to be under way");
            first.Kill();
        }

        using var second = await WarrenProcess.StartAsync(root, core.Url, follow);
        await WaitForAsync(async () => await FollowedAsync(http, second.Url) == 262, TimeSpan.FromMinutes(3), "the follower to finish");
        Assert.Equal(262, await FeedCountAsync(http, second.Url));

        // What the killed run stored was not fetched again; at most the zips it was fetching when it died were.
        var fetched = await ZipsServedAsync(http, core.Url) - before;
        Assert.InRange(fetched, 262, 264);
        second.Kill();

        // warren sync: one pass for cron, with a summary line; a second run has nothing to do.
        var target = TestPaths.NewTempDir("synced");
        var sync = await Processes.RunAsync("dotnet", null, null, [WarrenProcess.Dll, "sync", "--from", core.Url + "/index", "--root", target, "--sumdb", "off"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(sync.ExitCode == 0, sync.ToString());
        Assert.Contains("262 fetched, 0 already stored, 0 not matching, 0 failed", sync.Stdout, StringComparison.Ordinal);
        Assert.Equal(262, Directory.EnumerateFiles(target, "*.zip", SearchOption.AllDirectories).Count());
        var again = await Processes.RunAsync("dotnet", null, null, [WarrenProcess.Dll, "sync", "--from", core.Url + "/index", "--root", target, "--sumdb", "off", "--json"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("0 fetched, 0 already stored", again.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://index.golang.org/index", null, "a public feed needs --follow-patterns")]
    [InlineData("ftp://core.example/index", null, "want the http(s) URL of an index feed")]
    [InlineData("https://core.example/index", "[bad", "follow patterns")]
    public void Bad_follow_settings_are_refused_at_start_up_one_line_each(string feed, string? patterns, string problem)
    {
        var options = new Configuration.WarrenOptionsBuilder { Root = TestPaths.NewTempDir("follow-config"), Upstream = "off", SumDb = "off", Follow = feed, FollowPatterns = patterns }.Build();
        var failures = new Configuration.WarrenOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains(failures, f => f.Contains(problem, StringComparison.Ordinal) && !f.Contains('\n', StringComparison.Ordinal));
    }

    [Fact]
    public void A_public_feed_with_patterns_is_accepted()
    {
        var options = new Configuration.WarrenOptionsBuilder
        {
            Root = TestPaths.NewTempDir("follow-config"), Upstream = "off", SumDb = "off", Follow = "https://index.golang.org/index", FollowPatterns = "golang.org/x/*",
        }.Build();
        Assert.True(new Configuration.WarrenOptionsValidator().Validate(null, options).Succeeded);
    }
}

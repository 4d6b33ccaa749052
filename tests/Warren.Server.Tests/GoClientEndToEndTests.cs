using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>The real go 1.19 client against Warren on 127.0.0.1, with the corpus served as upstream.</summary>
public sealed class GoClientEndToEndTests
{
    [Fact]
    public async Task Go_downloads_the_whole_corpus_through_Warren_with_the_manifest_hashes_and_warm_requests_survive_upstream_loss()
    {
        var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);
        var work = TestPaths.NewTempDir("dl");
        var go = new GoRunner(warren.Url);
        var args = new List<string> { "mod", "download", "-json" };
        args.AddRange(Manifest.All.Select(e => e.Path + "@" + e.Version));

        var result = await go.RunAsync(work, args.ToArray());

        Assert.True(result.ExitCode == 0, result.ToString());
        var objects = GoRunner.JsonStream(result.Stdout);
        Assert.Equal(Manifest.All.Count, objects.Count);
        Assert.Equal(262, objects.Count);
        foreach (var o in objects)
        {
            Assert.False(o.TryGetProperty("Error", out var error), error.ToString());
            var expected = Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!);
            Assert.Equal(expected.ZipHash, o.GetProperty("Sum").GetString());
            Assert.Equal(expected.ModHash, o.GetProperty("GoModSum").GetString());
        }

        // Warren recorded the same hashes beside the zips it stored (the GOMODCACHE/cache/download layout).
        var ziphashes = Directory.EnumerateFiles(warren.Root, "*.ziphash", SearchOption.AllDirectories).ToList();
        Assert.Equal(262, ziphashes.Count);
        var known = Manifest.All.Select(e => e.ZipHash).ToHashSet(StringComparer.Ordinal);
        Assert.All(ziphashes, f => Assert.Contains(File.ReadAllText(f), known));

        // Each artifact was fetched from upstream exactly once.
        Assert.Equal(262, upstream.HitsFor(".zip"));

        // The index feed lists exactly those versions, each with a timestamp of its own; paging by the last timestamp
        // (since is inclusive) returns each exactly once.
        var feed = await Endpoints.IndexFeedTests.ReadAllAsync(warren.Client, "index");
        Assert.Equal(Manifest.All.Select(e => (e.Path, e.Version)).OrderBy(x => x).ToList(), feed.Select(e => (e.Path, e.Version)).OrderBy(x => x).ToList());
        var paged = await Endpoints.IndexFeedTests.PageAsync(warren.Client, 25);
        Assert.Equal(feed, paged);

        // Upstream gone: a fresh client still gets every version from the store.
        await upstream.DisposeAsync();
        var cold = new GoRunner(warren.Url);
        var again = await cold.RunAsync(work, args.ToArray());
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(262, GoRunner.JsonStream(again.Stdout).Count(o => o.TryGetProperty("Sum", out _) && !o.TryGetProperty("Error", out _)));
    }

    [Fact]
    public async Task Validate_closed_builds_downloads_all_and_verifies()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);
        var work = ValidateClosed.Copy();
        var go = new GoRunner(warren.Url);
        var modules = await ValidateClosed.BuildAndDownloadAllAsync(go, work);
        Assert.True(modules.Count >= 50, $"only {modules.Count} modules");
        var verify = await go.RunAsync(work, "mod", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Contains("all modules verified", verify.Stdout);
    }

    [Fact]
    public async Task List_versions_get_latest_and_queries_passed_upstream()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);

        // The corpus is a file tree: answer a branch name and a commit prefix the way an upstream proxy would.
        var checkInfo = Path.Combine(TestPaths.Corpus, "gopkg.in", "check.v1", "@v", "v1.0.0-20200902000000-038fdea00000.info");
        upstream.Intercept = async context =>
        {
            var path = context.Request.Path.Value!;
            if (path is "/gopkg.in/check.v1/@v/master.info" or "/gopkg.in/check.v1/@v/038fdea0.info")
            {
                await upstream.SendFileAsync(context, checkInfo);
                return true;
            }

            return false;
        };
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);
        var work = TestPaths.NewTempDir("latest");
        var go = new GoRunner(warren.Url);

        var versions = await go.RunAsync(work, "list", "-m", "-versions", "github.com/fatih/color");
        Assert.True(versions.ExitCode == 0, versions.ToString());
        Assert.Equal("github.com/fatih/color v1.7.0 v1.13.0", versions.Stdout.Trim());

        await File.WriteAllTextAsync(Path.Combine(work, "go.mod"), "module example.com/latest\n\ngo 1.19\n");
        var get = await go.RunAsync(work, "get", "github.com/fatih/color@latest");
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Contains("github.com/fatih/color v1.13.0", await File.ReadAllTextAsync(Path.Combine(work, "go.mod")));

        foreach (var query in new[] { "master", "038fdea0" })
        {
            var q = await go.RunAsync(work, "mod", "download", "-json", "gopkg.in/check.v1@" + query);
            Assert.True(q.ExitCode == 0, q.ToString());
            var o = GoRunner.JsonStream(q.Stdout).Single();
            Assert.Equal("v1.0.0-20200902000000-038fdea00000", o.GetProperty("Version").GetString());
            Assert.Equal(Manifest.Get("gopkg.in/check.v1", "v1.0.0-20200902000000-038fdea00000").ZipHash, o.GetProperty("Sum").GetString());
            Assert.Equal(1, upstream.HitsFor($"/@v/{query}.info"));
        }

        // A module with pseudo-versions only: the go command asks @latest.
        var pseudo = await go.RunAsync(work, "list", "-m", "-json", "github.com/google/shlex@latest");
        Assert.True(pseudo.ExitCode == 0, pseudo.ToString());
        Assert.Equal(1, upstream.HitsFor("/github.com/google/shlex/@latest"));
        Assert.StartsWith("v0.0.0-", JsonDocument.Parse(pseudo.Stdout).RootElement.GetProperty("Version").GetString());
    }

    [Fact]
    public async Task Stale_list_and_latest_are_served_when_upstream_fails_after_expiry()
    {
        var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.ListTtl = TimeSpan.FromMinutes(5), services: s => s.AddSingleton<TimeProvider>(clock));
        var work = TestPaths.NewTempDir("stale");
        var go = new GoRunner(warren.Url);
        var warm = await go.RunAsync(work, "list", "-m", "-versions", "github.com/fatih/color");
        Assert.True(warm.ExitCode == 0, warm.ToString());
        var latest = await warren.Client.GetStringAsync("github.com/google/shlex/@latest");

        await upstream.DisposeAsync();
        clock.Advance(TimeSpan.FromMinutes(6));

        var cold = new GoRunner(warren.Url);
        var again = await cold.RunAsync(work, "list", "-m", "-versions", "github.com/fatih/color");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("github.com/fatih/color v1.7.0 v1.13.0", again.Stdout.Trim());
        Assert.Equal(latest, await warren.Client.GetStringAsync("github.com/google/shlex/@latest"));
        Assert.Contains("warren_stale_served_total{kind=\"list\"}", warren.Metrics.Render());
        Assert.Contains("warren_stale_served_total{kind=\"latest\"}", warren.Metrics.Render());
    }
}

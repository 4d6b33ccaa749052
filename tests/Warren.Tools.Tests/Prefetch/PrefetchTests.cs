using Microsoft.AspNetCore.Http;
using System.Diagnostics;
using System.Text.Json;
using Warren.Core.Modules;
using Warren.Protocol.ModCache;
using Warren.Tools.Prefetch;
using Warren.Tools.Reporting;

namespace Warren.Tools.Tests.Prefetch;

public sealed class PrefetchTests
{
    private static string WarrenDll => Path.Combine(AppContext.BaseDirectory, "warren.dll");

    [Fact]
    public async Task Mvs_build_list_of_validate_closed_equals_go_list_m_all()
    {
        var closed = await ClosedModule.GetAsync();
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var proxy = new ModuleProxyClient(upstream.Url);

        var list = await new BuildListResolver(proxy, 8).ResolveAsync(Path.Combine(closed.Copy(), "go.mod"), CancellationToken.None);

        Assert.Empty(list.Findings);
        Assert.Equal("example.com/corpuscheck/closed", list.MainModule);
        Assert.True(closed.GoListAll.Count >= 50, string.Join('\n', closed.GoListAll));
        var ours = list.Selected.Select(m => m.ToString()).ToHashSet(StringComparer.Ordinal);
        Assert.True(closed.GoListAll.SetEquals(ours),
            $"only go: {string.Join(' ', closed.GoListAll.Except(ours))}\nonly ours: {string.Join(' ', ours.Except(closed.GoListAll))}");

        // Each go.mod was asked for once, and every one read is kept for the module cache.
        Assert.All(upstream.Hits.Where(h => h.Key.EndsWith(".mod", StringComparison.Ordinal)), h => Assert.Equal(1, h.Value));
        Assert.Equal(upstream.HitsFor(".mod"), list.GoMods.Count);
    }

    [Fact]
    public async Task Mvs_applies_the_main_modules_replace_and_exclude_like_the_go_command()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var work = TestPaths.NewTempDir("prefetch-rx");
        await File.WriteAllTextAsync(Path.Combine(work, "go.mod"), """
            module example.com/rx

            go 1.16

            require (
            	github.com/mattn/go-colorable v0.1.12
            	github.com/mattn/go-isatty v0.0.14
            )

            replace github.com/mattn/go-colorable v0.1.12 => github.com/mattn/go-colorable v0.1.13

            exclude github.com/mattn/go-isatty v0.0.16
            """);
        var go = new GoRunner(upstream.Url);
        var golist = await go.RunAsync(work, "list", "-m", "all");
        Assert.True(golist.ExitCode == 0, golist.ToString());
        var expected = golist.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ')).Select(f => f[0] + "@" + f[1]).ToHashSet(StringComparer.Ordinal);

        var proxy = new ModuleProxyClient(upstream.Url);
        var list = await new BuildListResolver(proxy, 4).ResolveAsync(Path.Combine(work, "go.mod"), CancellationToken.None);

        var ours = list.Selected.Select(m => m.ToString()).ToHashSet(StringComparer.Ordinal);
        Assert.True(expected.SetEquals(ours), $"go: {string.Join(' ', expected)}\nours: {string.Join(' ', ours)}");
        Assert.Contains("github.com/mattn/go-isatty@v0.0.14", ours); // v0.0.16 (required by colorable) is excluded
        Assert.Equal(new ModuleKey("github.com/mattn/go-colorable", "v0.1.13"), list.Actual(new ModuleKey("github.com/mattn/go-colorable", "v0.1.12")));
        Assert.Contains(new ModuleKey("github.com/mattn/go-colorable", "v0.1.13"), list.GoMods.Keys);
        Assert.DoesNotContain(new ModuleKey("github.com/mattn/go-colorable", "v0.1.12"), list.GoMods.Keys);
    }

    [Fact]
    public async Task Warming_asks_the_proxy_for_every_build_list_zip_exactly_once()
    {
        var closed = await ClosedModule.GetAsync();
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var work = closed.Copy();

        // Two inputs naming the same module: each file is still fetched once.
        var result = await new Prefetcher(new PrefetchOptions([Path.Combine(work, "go.mod"), work], upstream.Url, Jobs: 4)).RunAsync(CancellationToken.None);

        Assert.True(result.Report.ExitCode == 0, result.Report.ToJson());
        var zips = upstream.Hits.Where(h => h.Key.EndsWith(".zip", StringComparison.Ordinal)).ToDictionary(h => h.Key, h => h.Value, StringComparer.Ordinal);
        var expected = closed.GoListAll.Select(m => m.Split('@')).Select(m => Url(m[0], m[1], ".zip")).ToHashSet(StringComparer.Ordinal);
        Assert.True(expected.SetEquals(zips.Keys), $"expected {string.Join(' ', expected.Except(zips.Keys))}; unexpected {string.Join(' ', zips.Keys.Except(expected))}");
        Assert.All(zips, z => Assert.Equal(1, z.Value));
        Assert.All(upstream.Hits, h => Assert.Equal(1, h.Value));
        Assert.Equal(closed.GoListAll.Count, upstream.HitsFor(".info"));
        Assert.Equal(closed.GoListAll.Count, result.Zips);
        var bytes = expected.Sum(u => new FileInfo(Path.Combine(TestPaths.Corpus, u.TrimStart('/'))).Length);
        Assert.True(result.Bytes > bytes, $"{result.Bytes} bytes counted, the zips alone are {bytes}");
        var summary = Assert.Single(result.Report.Findings, f => f.Check == "prefetch.summary");
        Assert.Equal(Verdict.Pass, summary.Verdict);
        Assert.Contains($"{result.Bytes} bytes, 0 failures", summary.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warming_warren_lets_the_go_client_resolve_everything_with_the_upstream_stopped()
    {
        var closed = await ClosedModule.GetAsync();
        var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var port = Loopback.FreePort();
        var root = TestPaths.NewTempDir("prefetch-warren");
        using var warren = BackgroundProcess.Start("dotnet",
            [WarrenDll, "serve", "--listen", $"127.0.0.1:{port}", "--root", root, "--upstream", upstream.Url, "--sumdb", "off", "--private", ""]);
        await warren.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        var warrenUrl = $"http://127.0.0.1:{port}";

        var result = await new Prefetcher(new PrefetchOptions([closed.Copy()], warrenUrl)).RunAsync(CancellationToken.None);
        Assert.True(result.Report.ExitCode == 0, result.Report.ToJson());
        Assert.Equal(closed.GoListAll.Count, upstream.HitsFor(".zip"));
        await upstream.DisposeAsync();

        // A fresh client (empty module cache) loads every package of the program and downloads the whole build list
        // through Warren alone.
        var work = closed.Copy();
        var go = new GoRunner(warrenUrl);
        var build = await go.RunAsync(work, "build", "-n", "./...");
        Assert.True(build.ExitCode == 0, build.ToString() + "\nwarren:\n" + warren.Output);
        var download = await go.RunAsync(work, "mod", "download", "-json", "all");
        Assert.True(download.ExitCode == 0, download.ToString());
        var modules = GoRunner.JsonStream(download.Stdout);
        Assert.Equal(closed.GoListAll.Count, modules.Count);
        Assert.DoesNotContain(modules, m => m.TryGetProperty("Error", out _));
        var verify = await go.RunAsync(work, "mod", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Fact]
    public async Task A_module_cache_filled_from_go_sum_serves_the_go_client_offline()
    {
        var closed = await ClosedModule.GetAsync();
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var work = closed.Copy();
        var modCache = TestPaths.NewTempDir("prefetch-modcache");

        var result = await new Prefetcher(new PrefetchOptions([Path.Combine(work, "go.sum")], upstream.Url, modCache)).RunAsync(CancellationToken.None);
        Assert.True(result.Report.ExitCode == 0, result.Report.ToJson());

        // The go command's layout: every go.sum line has its files, and each .ziphash is the go.sum hash.
        var sums = GoSumFile.Parse(await File.ReadAllTextAsync(Path.Combine(work, "go.sum")));
        var layout = new ModCacheLayout(modCache);
        foreach (var line in sums)
        {
            var key = new ModuleKey(line.Path, line.Version);
            Assert.True(File.Exists(layout.PathOf(key, ".mod")), key + ".mod");
            if (!line.GoModOnly)
            {
                Assert.Equal(line.Hash, await File.ReadAllTextAsync(layout.PathOf(key, ".ziphash")));
                Assert.True(File.Exists(layout.PathOf(key, ".zip")) && File.Exists(layout.PathOf(key, ".info")), key.ToString());
            }
        }

        Assert.Empty(Directory.EnumerateFiles(modCache, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(sums.Count(l => !l.GoModOnly), result.Zips);

        // No network at all: GOPROXY=off, GOFLAGS=-mod=mod.
        var go = new GoRunner("off").With("GOMODCACHE", modCache);
        var build = await go.RunAsync(work, "build", "-n", "./...");
        Assert.True(build.ExitCode == 0, build.ToString());
        var verify = await go.RunAsync(work, "mod", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Contains("all modules verified", verify.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_version_missing_upstream_is_a_failure_naming_it()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var work = TestPaths.NewTempDir("prefetch-missing");
        var goSum = Path.Combine(work, "go.sum");
        var isatty = Manifest.Get("github.com/mattn/go-isatty", "v0.0.17");
        await File.WriteAllTextAsync(goSum, $"""
            github.com/mattn/go-isatty v0.0.17 {isatty.ZipHash}
            github.com/mattn/go-isatty v0.0.17/go.mod {isatty.ModHash}
            github.com/fatih/color v1.99.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
            github.com/fatih/color v1.99.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=

            """);

        var result = await new Prefetcher(new PrefetchOptions([goSum], upstream.Url)).RunAsync(CancellationToken.None);

        Assert.Equal(2, result.Report.ExitCode);
        Assert.Equal((1, 1), (result.Failures, result.Modules));
        var failure = Assert.Single(result.Report.Findings, f => f.Verdict == Verdict.Fail && f.Check == "prefetch.fetch");
        Assert.Equal("github.com/fatih/color@v1.99.0", failure.Subject);
        Assert.Contains("404", failure.Evidence, StringComparison.Ordinal);
        Assert.Equal(1, upstream.HitsFor("/github.com/mattn/go-isatty/@v/v0.0.17.zip"));
    }

    [Fact]
    public async Task A_requirement_missing_upstream_is_one_failure_and_the_rest_is_still_fetched()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var work = TestPaths.NewTempDir("prefetch-missing-req");
        await File.WriteAllTextAsync(Path.Combine(work, "go.mod"), """
            module example.com/missing

            go 1.19

            require (
            	github.com/fatih/color v1.99.0
            	github.com/mattn/go-isatty v0.0.17
            	github.com/mattn/go-colorable v0.1.13
            )

            replace example.com/local => ../local
            """);

        var result = await new Prefetcher(new PrefetchOptions([work], upstream.Url)).RunAsync(CancellationToken.None);

        Assert.Equal(2, result.Report.ExitCode);
        var failure = Assert.Single(result.Report.Findings, f => f.Verdict == Verdict.Fail && f.Check != "prefetch.summary");
        Assert.Equal(("prefetch.fetch", "github.com/fatih/color@v1.99.0"), (failure.Check, failure.Subject));
        Assert.Contains("404", failure.Evidence, StringComparison.Ordinal);
        var warning = Assert.Single(result.Report.Findings, f => f.Verdict == Verdict.Warn);
        Assert.Equal(("prefetch.replace-dir", "example.com/local"), (warning.Check, warning.Subject));
        Assert.Equal(1, upstream.HitsFor("/github.com/fatih/color/@v/v1.99.0.mod"));
        Assert.Equal(0, upstream.HitsFor("/github.com/fatih/color/@v/v1.99.0.zip"));
        Assert.Equal(1, upstream.HitsFor("/github.com/mattn/go-isatty/@v/v0.0.17.zip"));
        Assert.Equal(1, upstream.HitsFor("/github.com/mattn/go-colorable/@v/v0.1.13.zip"));
    }

    [Fact]
    public async Task A_transient_proxy_failure_is_retried_and_a_persistent_one_reported_with_its_status()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var flaky = 0;
        upstream.Intercept = async context =>
        {
            var path = context.Request.Path.Value!;
            var fail = path == "/github.com/mattn/go-isatty/@v/v0.0.17.zip" ? Interlocked.Increment(ref flaky) == 1
                : path == "/github.com/mattn/go-isatty/@v/v0.0.16.zip";
            if (fail)
            {
                context.Response.StatusCode = 503;
                await context.Response.WriteAsync("try later");
            }

            return fail;
        };
        var work = TestPaths.NewTempDir("prefetch-flaky");
        var goSum = Path.Combine(work, "go.sum");
        await File.WriteAllTextAsync(goSum, $"""
            github.com/mattn/go-isatty v0.0.17 {Manifest.Get("github.com/mattn/go-isatty", "v0.0.17").ZipHash}
            github.com/mattn/go-isatty v0.0.16 {Manifest.Get("github.com/mattn/go-isatty", "v0.0.16").ZipHash}

            """);

        var result = await new Prefetcher(new PrefetchOptions([goSum], upstream.Url)).RunAsync(CancellationToken.None);

        Assert.Equal((1, 1), (result.Modules, result.Failures));
        Assert.Equal(2, upstream.HitsFor("/github.com/mattn/go-isatty/@v/v0.0.17.zip"));
        Assert.Equal(3, upstream.HitsFor("/github.com/mattn/go-isatty/@v/v0.0.16.zip"));
        var failure = Assert.Single(result.Report.Findings, f => f.Check == "prefetch.fetch");
        Assert.Equal("github.com/mattn/go-isatty@v0.0.16", failure.Subject);
        Assert.Contains("503 Service Unavailable", failure.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Go_sum_lines_and_go_versions_are_read_as_the_go_command_reads_them()
    {
        var lines = GoSumFile.Parse("a.example/m v1.0.0 h1:zip=\na.example/m v1.0.0/go.mod h1:mod=\n\nbroken line\nb.example/n v0.1.0/go.mod h1:other=\n");
        Assert.Equal(
            [new GoSumLine("a.example/m", "v1.0.0", false, "h1:zip="), new GoSumLine("a.example/m", "v1.0.0", true, "h1:mod="), new GoSumLine("b.example/n", "v0.1.0", true, "h1:other=")],
            lines);
        Assert.Equal((false, false, true, true, true), (BuildListResolver.PrunedGoVersion(null), BuildListResolver.PrunedGoVersion("1.16"),
            BuildListResolver.PrunedGoVersion("1.17"), BuildListResolver.PrunedGoVersion("1.21rc1"), BuildListResolver.PrunedGoVersion("2.0")));
    }

    [Fact]
    public async Task A_zip_whose_hash_differs_from_go_sum_is_refused_and_not_written()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var work = TestPaths.NewTempDir("prefetch-mismatch");
        var modCache = TestPaths.NewTempDir("prefetch-mismatch-cache");
        var other = Manifest.Get("github.com/mattn/go-isatty", "v0.0.16");
        var goSum = Path.Combine(work, "go.sum");
        await File.WriteAllTextAsync(goSum, $"github.com/mattn/go-isatty v0.0.17 {other.ZipHash}\n");

        var result = await new Prefetcher(new PrefetchOptions([goSum], upstream.Url, modCache)).RunAsync(CancellationToken.None);

        Assert.Equal(2, result.Report.ExitCode);
        var failure = Assert.Single(result.Report.Findings, f => f.Verdict == Verdict.Fail && f.Check == "prefetch.checksum");
        Assert.Equal("github.com/mattn/go-isatty@v0.0.17", failure.Subject);
        Assert.Contains(other.ZipHash, failure.Evidence, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(modCache, "*.zip*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task The_cli_prints_json_and_exits_2_with_a_failure()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var work = TestPaths.NewTempDir("prefetch-cli");
        var modCache = Path.Combine(work, "modcache");
        var goSum = Path.Combine(work, "go.sum");
        var isatty = Manifest.Get("github.com/mattn/go-isatty", "v0.0.17");
        await File.WriteAllTextAsync(goSum, $"github.com/mattn/go-isatty v0.0.17 {isatty.ZipHash}\ngithub.com/mattn/go-isatty v0.0.99/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");

        var run = await Processes.RunAsync("dotnet", work, null, [WarrenDll, "prefetch", "--proxy", upstream.Url, "--modcache", modCache, "--jobs", "2", "--json", goSum]);

        Assert.True(run.ExitCode == 2, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("prefetch", json.RootElement.GetProperty("command").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("exitCode").GetInt32());
        var findings = json.RootElement.GetProperty("findings").EnumerateArray().ToList();
        var failure = Assert.Single(findings, f => f.GetProperty("verdict").GetString() == "Fail" && f.GetProperty("check").GetString() == "prefetch.fetch");
        Assert.Equal("github.com/mattn/go-isatty@v0.0.99", failure.GetProperty("subject").GetString());
        Assert.Contains("404", failure.GetProperty("evidence").GetString(), StringComparison.Ordinal);
        Assert.Equal(isatty.ZipHash, await File.ReadAllTextAsync(new ModCacheLayout(modCache).PathOf(new ModuleKey("github.com/mattn/go-isatty", "v0.0.17"), ".ziphash")));

        var usage = await Processes.RunAsync("dotnet", work, null, [WarrenDll, "prefetch", "--proxy", upstream.Url, "--jobs", "0", goSum]);
        Assert.True(usage.ExitCode == 64, usage.ToString());

        // Without --proxy: the first proxy of GOPROXY (as `go env` reports it).
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string)e.Value!, StringComparer.Ordinal);
        env["GOPROXY"] = upstream.Url + ",direct";
        env["GOENV"] = "off";
        var goSumOk = Path.Combine(work, "ok.sum");
        await File.WriteAllTextAsync(goSumOk, $"github.com/mattn/go-isatty v0.0.17/go.mod {isatty.ModHash}\n");
        var byEnv = await Processes.RunAsync("dotnet", work, env, [WarrenDll, "prefetch", "--json", goSumOk]);
        Assert.True(byEnv.ExitCode == 0, byEnv.ToString());
        Assert.Contains("fetched through " + upstream.Url, byEnv.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, upstream.HitsFor("/github.com/mattn/go-isatty/@v/v0.0.17.mod"));
    }

    private static string Url(string path, string version, string suffix)
    {
        Assert.True(ModulePath.TryEscapePath(path, out var p, out _));
        Assert.True(ModulePath.TryEscapeVersion(version, out var v, out _));
        return $"/{p}/@v/{v}{suffix}";
    }
}

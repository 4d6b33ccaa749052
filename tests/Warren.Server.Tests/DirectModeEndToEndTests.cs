using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Fetch.Direct.Git;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Ingest;
using Warren.Storage;

namespace Warren.Server.Tests;

/// <summary>Warren in direct mode against the real go client in direct mode, on the corpus git repositories.</summary>
public sealed class DirectModeEndToEndTests
{
    private static readonly string[] Queries =
    [
        "github.com/pkg/errors@v0.8.1", "github.com/pkg/errors@v0.9.1", "github.com/pkg/errors@dev", "github.com/pkg/errors@latest",
        "github.com/pkg/errors@284691ab71dd", "github.com/pkg/errors@main",
        "github.com/davecgh/go-spew@v1.1.1", "github.com/davecgh/go-spew@latest",
        "github.com/gofrs/uuid@v4.3.1+incompatible", "github.com/gofrs/uuid@latest",

        // Not a version of a v0/v1 path: the go command asks VERSION.info, resolved to v4.3.1+incompatible.
        "github.com/gofrs/uuid@v4.3.1",
        "github.com/cespare/xxhash/v2@v2.1.1", "github.com/cespare/xxhash/v2@v2.1.2", "github.com/cespare/xxhash/v2@latest",
        "github.com/go-chi/chi/v5@v5.0.7", "github.com/go-chi/chi/v5@latest",
        "github.com/ugorji/go@v1.2.8", "github.com/ugorji/go/codec@v1.2.7", "github.com/ugorji/go/codec@v1.2.8", "github.com/ugorji/go/codec@latest",
        "gopkg.in/yaml.v3@v3.0.1", "gopkg.in/yaml.v3@latest",
        "golang.org/x/sync@v0.1.0", "golang.org/x/sync@latest",
    ];

    private static readonly string[] Modules =
    [
        "github.com/pkg/errors", "github.com/davecgh/go-spew", "github.com/gofrs/uuid", "github.com/cespare/xxhash/v2", "github.com/go-chi/chi/v5",
        "github.com/ugorji/go", "github.com/ugorji/go/codec", "gopkg.in/yaml.v3", "golang.org/x/sync",
    ];

    /// <param name="shallowFirst">Every version request that finds its repository's mirror still being made reads a
    /// depth-1 fetch of the refs it needs instead of waiting (GitShallowAfter zero).</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Versions_sums_and_version_lists_equal_the_go_command_in_direct_mode(bool shallowFirst)
    {
        await using var git = await GitCorpusServer.StartAsync();
        await using var warren = await StartDirectWarrenAsync(git, shallowAfter: shallowFirst ? TimeSpan.Zero : TimeSpan.FromHours(1));
        Assert.Equal(shallowFirst ? TimeSpan.Zero : null, warren.Services.GetRequiredService<GitMirrorOptions>().ShallowFirstAfter); // past GitTimeout: off

        var direct = git.DirectGo();
        var proxied = git.WithGitRecipe(new GoRunner(warren.Url));
        var work = TestPaths.NewTempDir("direct");

        var expected = await DownloadAsync(direct, work);
        var actual = await DownloadAsync(proxied, work);
        Assert.Equal(Queries.Length, expected.Count);
        Assert.Equal(expected, actual);
        Assert.Contains("github.com/pkg/errors v0.9.2-0.20210601120000-284691ab71dd h1:kjCVOcVM597Q1G2ew0B3DxpSxiwzRnK8KcHxlE+zTDc= h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=", actual);
        Assert.True(actual.Count(line => line.StartsWith("github.com/gofrs/uuid v4.3.1+incompatible ", StringComparison.Ordinal)) >= 2, string.Join('\n', actual));

        foreach (var module in Modules)
        {
            var want = await direct.RunAsync(work, "list", "-m", "-versions", module);
            var got = await proxied.RunAsync(work, "list", "-m", "-versions", module);
            Assert.True(want.ExitCode == 0, want.ToString());
            Assert.True(got.ExitCode == 0, got.ToString());
            Assert.Equal(want.Stdout, got.Stdout);
        }
    }

    [Fact]
    public async Task A_second_version_is_an_incremental_fetch_of_the_same_mirror()
    {
        await using var git = await GitCorpusServer.StartAsync();
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var warren = await StartDirectWarrenAsync(git, clock);
        using (var first = await warren.Client.GetAsync("github.com/pkg/errors/@v/v0.8.1.info"))
        {
            Assert.Equal(200, (int)first.StatusCode);
        }

        var mirror = Directory.GetDirectories(Path.Combine(warren.Root, ".warren", "git")).Single(d => d.Contains("pkg", StringComparison.Ordinal));
        var created = File.ReadAllText(Path.Combine(mirror, "warren", "created"));

        // Upstream gains a tag; the next request for it fetches only what is new.
        await Processes.RunCheckedAsync("git", null, null, "--git-dir", Path.Combine(git.Repos, "github.com", "pkg", "errors.git"), "tag", "v0.9.2", "284691ab71dd");
        clock.Advance(TimeSpan.FromMinutes(2));
        using var second = await warren.Client.GetAsync("github.com/pkg/errors/@v/v0.9.2.info");
        Assert.Equal(200, (int)second.StatusCode);
        Assert.Contains("\"Version\":\"v0.9.2\"", await second.Content.ReadAsStringAsync());

        var log = File.ReadAllLines(Path.Combine(mirror, "warren", "operations.log"));
        Assert.Single(log, l => l.Contains("clone", StringComparison.Ordinal));
        Assert.Single(log, l => l.Contains("fetch", StringComparison.Ordinal));
        Assert.Equal(created, File.ReadAllText(Path.Combine(mirror, "warren", "created")));
    }

    [Fact]
    public async Task The_mod_and_zip_of_a_version_whose_info_was_made_are_made_in_the_background()
    {
        await using var git = await GitCorpusServer.StartAsync();
        await using var warren = await StartDirectWarrenAsync(git);
        using (var info = await warren.Client.GetAsync("github.com/pkg/errors/@v/v0.9.1.info"))
        {
            Assert.Equal(200, (int)info.StatusCode);
        }

        // Nobody asked for them: the background fetch makes them, through the normal checks.
        var zip = Path.Combine(warren.Root, StoreLayout.ArtifactKey("github.com/pkg/errors", "v0.9.1", ArtifactKind.Zip));
        var mod = Path.Combine(warren.Root, StoreLayout.ArtifactKey("github.com/pkg/errors", "v0.9.1", ArtifactKind.Mod));
        var queue = warren.Services.GetRequiredService<BackgroundFetchQueue>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(File.Exists(zip) && queue.Pending == 0))
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the background fetch of the .mod and .zip");
            await Task.Delay(50);
        }

        Assert.True(File.Exists(mod));
        Assert.Equal("h1:hOISDHPp68K3pi7Oct0vzL6O/Hg3IgQB5M6vmTEDsIk=", Warren.Core.Modules.DirHash.HashZip(zip, CancellationToken.None));
        var metrics = await warren.Client.GetStringAsync("/metrics");
        Assert.Contains("warren_background_fetches_total{outcome=\"stored\"} 1", metrics, StringComparison.Ordinal);

        // The client's own requests then find them stored.
        using var served = await warren.Client.GetAsync("github.com/pkg/errors/@v/v0.9.1.zip");
        Assert.Equal(200, (int)served.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(zip), await served.Content.ReadAsByteArrayAsync());

        // A branch query resolves to a pseudo-version: its .mod and .zip are made in the background too.
        using (var query = await warren.Client.GetAsync("github.com/pkg/errors/@v/dev.info"))
        {
            Assert.Equal(200, (int)query.StatusCode);
            Assert.Contains("\"Version\":\"v0.9.2-0.20210601120000-284691ab71dd\"", await query.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var pseudoZip = Path.Combine(warren.Root, StoreLayout.ArtifactKey("github.com/pkg/errors", "v0.9.2-0.20210601120000-284691ab71dd", ArtifactKind.Zip));
        while (!(File.Exists(pseudoZip) && queue.Pending == 0))
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the background fetch of the pseudo-version");
            await Task.Delay(50);
        }

        Assert.Equal("h1:kjCVOcVM597Q1G2ew0B3DxpSxiwzRnK8KcHxlE+zTDc=", Warren.Core.Modules.DirHash.HashZip(pseudoZip, CancellationToken.None));
    }

    [Fact]
    public async Task While_a_mirror_is_being_made_the_go_command_gets_tagged_versions_from_depth_1_fetches_and_pseudo_versions_once_history_is_there()
    {
        await using var git = await GitCorpusServer.StartAsync();
        await using var warren = await StartDirectWarrenAsync(git, shallowAfter: TimeSpan.Zero);
        var manager = warren.Services.GetRequiredService<GitMirrorManager>();
        var hold = new TaskCompletionSource();
        manager.HoldCloneFetches = hold; // every clone's fetch of the whole history waits until released
        var mirrors = Path.Combine(warren.Root, ".warren", "git");
        var proxied = git.WithGitRecipe(new GoRunner(warren.Url));
        var work = TestPaths.NewTempDir("shallow");

        var tagged = await proxied.RunAsync(work, "mod", "download", "-json", "github.com/pkg/errors@v0.9.1", "github.com/cespare/xxhash/v2@v2.1.2");
        Assert.True(tagged.ExitCode == 0, tagged.ToString());
        var sums = GoRunner.JsonStream(tagged.Stdout).ToDictionary(o => o.GetProperty("Path").GetString()!, o => o.GetProperty("Sum").GetString());
        Assert.Equal(Manifest.Get("github.com/pkg/errors", "v0.9.1").ZipHash, sums["github.com/pkg/errors"]);
        Assert.Equal(Manifest.Get("github.com/cespare/xxhash/v2", "v2.1.2").ZipHash, sums["github.com/cespare/xxhash/v2"]);
        Assert.All(Directory.GetDirectories(mirrors), d => Assert.StartsWith(".tmp-", Path.GetFileName(d), StringComparison.Ordinal)); // no mirror yet

        // A branch's pseudo-version needs the tags in its history: it waits for the mirror.
        var branch = proxied.RunAsync(work, "mod", "download", "-json", "github.com/pkg/errors@dev");
        await Task.Delay(1000);
        Assert.False(branch.IsCompleted);
        hold.SetResult();
        var pseudo = await branch;
        Assert.True(pseudo.ExitCode == 0, pseudo.ToString());
        var o = GoRunner.JsonStream(pseudo.Stdout).Single();
        Assert.Equal("v0.9.2-0.20210601120000-284691ab71dd", o.GetProperty("Version").GetString());
        Assert.Equal("h1:kjCVOcVM597Q1G2ew0B3DxpSxiwzRnK8KcHxlE+zTDc=", o.GetProperty("Sum").GetString());

        // The mirrors are complete; the shallow copies go once nothing reads them.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Directory.GetDirectories(mirrors, ".tmp-*").Length > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "shallow copies left: " + string.Join(' ', Directory.GetDirectories(mirrors, ".tmp-*")));
            await Task.Delay(100);
        }

        foreach (var url in new[] { "https://github.com/pkg/errors", "https://github.com/cespare/xxhash" })
        {
            var stats = manager.GetStats(url);
            Assert.Equal(1, stats.Clones);
            Assert.True(stats.ShallowFetches >= 1, $"{url}: {stats}");
        }
    }

    [Fact]
    public void A_negative_GitShallowAfter_is_refused_in_one_line()
    {
        var options = new Configuration.WarrenOptionsBuilder { Root = TestPaths.NewTempDir("shallow-config"), Upstream = "direct", SumDb = "off", GitShallowAfter = TimeSpan.FromSeconds(-1) }.Build();
        var failures = new Configuration.WarrenOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains("GitShallowAfter must be zero or more, not -00:00:01", failures);
        Assert.Equal(TimeSpan.FromMilliseconds(250), new Configuration.WarrenOptions().GitShallowAfter);
    }

    [Fact]
    public async Task Without_prefetch_only_what_was_asked_for_is_made()
    {
        await using var git = await GitCorpusServer.StartAsync();
        await using var warren = await StartDirectWarrenAsync(git, prefetch: false);
        foreach (var suffix in new[] { ".info", ".mod" })
        {
            using var response = await warren.Client.GetAsync("github.com/pkg/errors/@v/v0.9.1" + suffix);
            Assert.Equal(200, (int)response.StatusCode);
        }

        Assert.False(File.Exists(Path.Combine(warren.Root, StoreLayout.ArtifactKey("github.com/pkg/errors", "v0.9.1", ArtifactKind.Zip))));
        Assert.Equal(0, warren.Services.GetRequiredService<BackgroundFetchQueue>().Pending);
        Assert.DoesNotContain("warren_background_fetch_requests_total{", await warren.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_revisions_and_missing_repositories_are_404_with_a_reason()
    {
        await using var git = await GitCorpusServer.StartAsync();
        await using var warren = await StartDirectWarrenAsync(git);
        using var unknown = await warren.Client.GetAsync("github.com/pkg/errors/@v/v0.7.0.info");
        Assert.Equal(404, (int)unknown.StatusCode);
        Assert.Contains("v0.7.0", await unknown.Content.ReadAsStringAsync());
        using var missing = await warren.Client.GetAsync("github.com/nobody/nothing/@v/list");
        Assert.Equal(404, (int)missing.StatusCode);
        using var branch = await warren.Client.GetAsync("github.com/pkg/errors/@v/no-such-branch.info");
        Assert.Equal(404, (int)branch.StatusCode);
        Assert.Contains("unknown revision", await branch.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_mod_go_import_tag_is_followed_to_the_GOPROXY_it_names()
    {
        // gopkg.in/yaml.v2 is announced as `mod` (served by a GOPROXY), the way golang.org/toolchain is.
        await using var corpus = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var discovery = await FakeUpstream.StartAsync(TestPaths.NewTempDir("meta"));
        discovery.Intercept = async context =>
        {
            if (context.Request.Query.ContainsKey("go-get"))
            {
                await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response,
                    $"<html><head><meta name=\"go-import\" content=\"gopkg.in/yaml.v2 mod {corpus.Url}\"></head></html>");
                return true;
            }

            context.Response.StatusCode = 405;
            return true;
        };
        await using var warren = await WarrenInstance.StartAsync("direct", o =>
        {
            o.OutboundProxy = discovery.Url;
            o.OutboundProxyBypass = "127.0.0.1,localhost";
            o.GoInsecure = "gopkg.in/yaml.v2";
            o.EgressAllow = "127.0.0.1:" + corpus.Port;
        });

        var go = new GoRunner(warren.Url);
        var result = await go.RunAsync(TestPaths.NewTempDir("mod"), "mod", "download", "-json", "gopkg.in/yaml.v2@v2.4.0");
        Assert.True(result.ExitCode == 0, result.ToString());
        var o = GoRunner.JsonStream(result.Stdout).Single();
        Assert.Equal(Manifest.Get("gopkg.in/yaml.v2", "v2.4.0").ZipHash, o.GetProperty("Sum").GetString());
        Assert.True(corpus.HitsFor("/gopkg.in/yaml.v2/@v/v2.4.0.zip") == 1);
    }

    /// <param name="clock">Replaces the server's clock (mirror freshness then moves only when the test advances it).</param>
    private static Task<WarrenInstance> StartDirectWarrenAsync(GitCorpusServer git, TimeProvider? clock = null, bool prefetch = true, TimeSpan? shallowAfter = null) =>
        WarrenInstance.StartAsync("direct", o =>
        {
            o.GitConfig = git.GitConfig;
            o.OutboundProxy = git.Url;
            o.OutboundProxyBypass = "127.0.0.1,localhost";
            o.GoInsecure = GitCorpusServer.GoInsecure;
            o.GitFreshness = clock is null ? TimeSpan.FromSeconds(1) : TimeSpan.FromMinutes(1);
            o.Prefetch = prefetch ? "direct" : "off";
            o.GitShallowAfter = shallowAfter ?? TimeSpan.FromHours(1);
        }, services: clock is null ? null : s => s.AddSingleton(clock));

    private static async Task<List<string>> DownloadAsync(GoRunner go, string work)
    {
        var result = await go.RunAsync(work, ["mod", "download", "-json", .. Queries]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return GoRunner.JsonStream(result.Stdout)
            .Select(o => $"{o.GetProperty("Path").GetString()} {o.GetProperty("Version").GetString()} {o.GetProperty("Sum").GetString()} {o.GetProperty("GoModSum").GetString()}")
            .Order(StringComparer.Ordinal).ToList();
    }
}

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Warren.Server.Configuration;
using Warren.Server.Ingest;
using Warren.Server.Tests.Auth;
using Warren.Server.Tests.Infrastructure;
using Warren.Storage;

namespace Warren.Server.Tests.Ingest;

/// <summary>--download-mode: each mode's status code, Location and storage effect against the corpus served on
/// loopback; the go client through redirect; access control before any redirect; start-up refusals.</summary>
public sealed class DownloadModeTests : IAsyncLifetime
{
    private const string Color = "github.com/fatih/color";
    private const string Version = "v1.13.0";
    private static readonly string[] Artifacts = [".info", ".mod", ".zip"];
    private readonly CapturingLoggerProvider _logs = new();
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private Task<WarrenInstance> StartAsync(string modes, string? root = null, Action<WarrenOptionsBuilder>? configure = null, string? upstream = null) =>
        WarrenInstance.StartAsync(upstream ?? _upstream.Url, o =>
        {
            o.DownloadMode = modes;
            configure?.Invoke(o);
        }, root, beforeStart: app => app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().AddProvider(_logs));

    /// <summary>A client that shows redirects instead of following them.</summary>
    private static HttpClient NoRedirects(WarrenInstance warren) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = new Uri(warren.Url + "/") };

    private static string Stored(WarrenInstance warren, string modulePath, string version, ArtifactKind kind) =>
        Path.Combine(warren.Root, StoreLayout.ArtifactKey(modulePath, version, kind));

    private static bool HoldsVersion(WarrenInstance warren, string modulePath = Color, string version = Version) =>
        new[] { ArtifactKind.Info, ArtifactKind.Mod, ArtifactKind.Zip }.All(k => File.Exists(Stored(warren, modulePath, version, k)));

    private static bool HoldsAnything(WarrenInstance warren, string modulePath = Color) =>
        Directory.Exists(Path.Combine(warren.Root, modulePath)) && Directory.EnumerateFiles(Path.Combine(warren.Root, modulePath), "*", SearchOption.AllDirectories).Any();

    private static async Task WaitForAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }

    /// <summary>GETs the .info, .mod and .zip of the version and checks each answer's status (and body, when given).</summary>
    private static async Task AssertArtifactsAsync(HttpClient client, HttpStatusCode status, string? body = null, string version = Version)
    {
        foreach (var suffix in Artifacts)
        {
            var response = await client.GetAsync($"{Color}/@v/{version}{suffix}");
            Assert.Equal(status, response.StatusCode);
            if (body is not null)
            {
                Assert.Equal(body, await response.Content.ReadAsStringAsync());
            }
        }
    }

    private string UpstreamUrl(string suffix) => _upstream.Url.TrimEnd('/') + "/" + Color + suffix;

    [Theory]
    [InlineData("github.com/fatih/*=async", null)]
    [InlineData("a.example,b.example=none; github.com/*=redirect ;*=async_redirect", null)]
    [InlineData("corp.example=offline;*=sync", null)]
    [InlineData("corp.example", "\"corp.example\": want GLOBS=MODE")]
    [InlineData("corp.example=lazy", "\"lazy\": the mode must be sync, async, redirect, async_redirect, none or offline")]
    [InlineData("[=none", "syntax error in pattern")]
    public void Rules_parse_or_say_what_is_wrong(string text, string? problem)
    {
        // The form the server is built from: rules, or no rules and the error.
        var (rules, error) = DownloadModePolicy.Parse(text);
        Assert.Equal(problem is null, error is null);
        Assert.Equal(error is null, rules.Count > 0);
        Assert.Contains(problem ?? "", error ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public void First_match_wins_unmatched_paths_are_sync_and_direct_only_paths_are_never_redirected()
    {
        var options = new WarrenOptions
        {
            Upstream = "file:///srv/mirror,https://user:secret@proxy.example/base?token=abc,direct",
            Private = "corp.example",
            DownloadMode = "github.com/a/*=none;github.com/*=redirect;*=async_redirect",
        };
        var policy = new DownloadModePolicy(DownloadModePolicy.Parse(options.DownloadMode).Rules, Options.Create(options), WarrenServiceCollectionExtensions.ProtocolSettingsFrom(options));

        Assert.Equal(DownloadMode.None, policy.Decide("github.com/a/b"));
        Assert.Equal(DownloadMode.Redirect, policy.Decide("github.com/c/d"));
        Assert.Equal(DownloadMode.AsyncRedirect, policy.Decide("golang.org/x/text"));
        Assert.Equal(DownloadMode.Async, policy.Decide("corp.example/team/lib"));

        // The first http(s) proxy of the chain, without its user information or query; the escaped path below it.
        Assert.Equal("https://proxy.example/base/", policy.RedirectBase!.AbsoluteUri);
        var target = policy.RedirectTarget(new Upstream.ModuleRequest("github.com/BurntSushi/toml", "v1.2.0", Upstream.RequestKind.Zip))!;
        Assert.Equal("https://proxy.example/base/github.com/!burnt!sushi/toml/@v/v1.2.0.zip", target.AbsoluteUri);

        var unset = new WarrenOptions { Upstream = "https://proxy.example" };
        var sync = new DownloadModePolicy(DownloadModePolicy.Parse(unset.DownloadMode).Rules, Options.Create(unset), WarrenServiceCollectionExtensions.ProtocolSettingsFrom(unset));
        Assert.False(sync.IsConfigured);
        Assert.Equal(DownloadMode.Sync, sync.Decide("github.com/c/d"));
    }

    [Fact]
    public async Task Redirect_rules_that_can_only_reach_direct_and_bad_rules_are_refused_at_start_up_one_line_each()
    {
        var baseline = new WarrenOptions { Root = "/srv/warren", Upstream = "https://proxy.example,direct", SumDb = "off", Private = "corp.example,*.internal" };
        List<string> Problems(WarrenOptions o) =>
            (new WarrenOptionsValidator().Validate(null, o).Failures ?? []).Where(p => p.StartsWith("download mode", StringComparison.Ordinal)).ToList();

        Assert.Empty(Problems(baseline with { DownloadMode = "github.com/*=redirect;corp.example=none;*=async_redirect" }));

        var directOnly = Problems(baseline with { Upstream = "direct", DownloadMode = "github.com/*=redirect;*=async" });
        Assert.Equal(
            ["download mode \"github.com/*=redirect\": the upstream chain \"direct\" has no http(s) proxy to redirect to (only direct, off or file://)"],
            directOnly);

        // As in the go command, nothing after direct is ever asked.
        Assert.Single(Problems(baseline with { Upstream = "direct,https://proxy.example", DownloadMode = "*=async_redirect" }));

        var underPrivate = Problems(baseline with { DownloadMode = "corp.example/team,git.internal/*=async_redirect;github.com/*=redirect" });
        Assert.Equal(2, underPrivate.Count);
        Assert.StartsWith("download mode \"corp.example/team,git.internal/*=async_redirect\": corp.example/team is under --no-proxy/--private", underPrivate[0], StringComparison.Ordinal);
        Assert.StartsWith("download mode \"corp.example/team,git.internal/*=async_redirect\": git.internal/* is under --no-proxy/--private", underPrivate[1], StringComparison.Ordinal);

        Assert.Equal(["download mode \"*=eventually\": \"eventually\": the mode must be sync, async, redirect, async_redirect, none or offline"],
            Problems(baseline with { DownloadMode = "*=eventually" }));

        // The server does not start with such a setting.
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync("*=redirect", upstream: "direct"));
        Assert.Contains("has no http(s) proxy to redirect to", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warren_serve_with_a_redirect_rule_that_can_only_reach_direct_exits_2_with_one_line_per_problem()
    {
        var dir = TestPaths.NewTempDir("modes");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { WarrenProcess.Dll, "serve", "--listen", "127.0.0.1:1", "--root", Path.Combine(dir, "store"), "--sumdb", "off",
                     "--upstream", "direct", "--private", "corp.example", "--download-mode", "corp.example/*,github.com/*=redirect;*=async" })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        var lines = stderr.Split('\n').Where(l => l.Contains("download mode", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Contains(lines, l => l.Contains("download mode \"corp.example/*,github.com/*=redirect\": the upstream chain \"direct\" has no http(s) proxy", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("download mode \"corp.example/*,github.com/*=redirect\": corp.example/* is under --no-proxy/--private", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sync_fetches_stores_and_serves()
    {
        await using var warren = await StartAsync("github.com/fatih/*=sync;*=none");
        await AssertArtifactsAsync(warren.Client, HttpStatusCode.OK);

        Assert.True(HoldsVersion(warren));
    }

    [Fact]
    public async Task Async_answers_404_then_stores_the_version_in_the_background_once()
    {
        await using var warren = await StartAsync("github.com/fatih/*=async");
        _upstream.Delay = TimeSpan.FromSeconds(2);

        // A burst of clients for every artifact: all 404 at once, with the reason; one background fetch of the version.
        var first = await Task.WhenAll(Enumerable.Range(0, 8).SelectMany(_ => Artifacts).Select(s => warren.Client.GetAsync($"{Color}/@v/{Version}{s}")));
        foreach (var response in first)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("not fetched yet: download mode async for this path; github.com/fatih/color@v1.13.0 is being fetched in the background, try again shortly\n",
                await response.Content.ReadAsStringAsync());
        }

        _upstream.Delay = TimeSpan.Zero;
        await WaitForAsync(() => HoldsVersion(warren), "the background fetch to store the version");
        await WaitForAsync(() => warren.Services.GetRequiredService<BackgroundFetchQueue>().Pending == 0, "the background fetch to end");
        foreach (var suffix in Artifacts)
        {
            Assert.Equal(1, _upstream.HitsFor($"/{Color}/@v/{Version}{suffix}"));
            var again = await warren.Client.GetAsync($"{Color}/@v/{Version}{suffix}");
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        var metrics = warren.Metrics.Render();
        Assert.Contains("warren_background_fetch_requests_total{result=\"queued\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("warren_background_fetch_requests_total{result=\"coalesced\"} 23", metrics, StringComparison.Ordinal);
        Assert.Contains("warren_background_fetches_total{outcome=\"stored\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("warren_download_mode_answers_total{mode=\"async\",answer=\"not_fetched\"} 24", metrics, StringComparison.Ordinal);
        Assert.Single(_logs.Lines, l => l.Contains("Background fetch of github.com/fatih/color@v1.13.0 stored it", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Redirect_answers_302_to_the_first_proxy_and_stores_nothing()
    {
        await using var warren = await StartAsync("github.com/fatih/*=redirect", upstream: _upstream.Url + "|direct");
        using var http = NoRedirects(warren);
        foreach (var (path, suffix) in Artifacts.Select(s => ($"{Color}/@v/{Version}{s}", $"/@v/{Version}{s}")).Append(($"{Color}/@v/list", "/@v/list")).Append(($"{Color}/@latest", "/@latest")))
        {
            var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.Equal(UpstreamUrl(suffix), response.Headers.Location!.AbsoluteUri);
            Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        }

        Assert.Empty(_upstream.Requests);
        Assert.False(HoldsAnything(warren));
        Assert.Contains("warren_download_mode_answers_total{mode=\"redirect\",answer=\"redirect\"} 5", warren.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Async_redirect_answers_302_now_and_stores_the_version_in_the_background()
    {
        await using var warren = await StartAsync("github.com/fatih/*=async_redirect");
        using var http = NoRedirects(warren);
        var response = await http.GetAsync($"{Color}/@v/{Version}.zip");
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(UpstreamUrl($"/@v/{Version}.zip"), response.Headers.Location!.AbsoluteUri);

        await WaitForAsync(() => HoldsVersion(warren), "the background fetch to store the version");
        var stored = await http.GetAsync($"{Color}/@v/{Version}.zip");
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(TestPaths.Corpus, Color, "@v", Version + ".zip")), await stored.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, _upstream.HitsFor($"/{Color}/@v/{Version}.zip"));
    }

    [Fact]
    public async Task None_answers_404_with_the_reason_and_fetches_nothing()
    {
        await using var warren = await StartAsync("github.com/fatih/*=none");
        await AssertArtifactsAsync(warren.Client, HttpStatusCode.NotFound, "not fetched: download mode none for this path\n");

        var query = await warren.Client.GetAsync($"{Color}/@v/master.info");
        Assert.Equal(HttpStatusCode.NotFound, query.StatusCode);
        await Task.Delay(300);
        Assert.Empty(_upstream.Requests);
        Assert.False(HoldsAnything(warren));

        // list and @latest are answered as usual (what exists is no download).
        Assert.Equal("v1.7.0\nv1.13.0\n", await warren.Client.GetStringAsync($"{Color}/@v/list"));
    }

    [Fact]
    public async Task Offline_serves_what_is_stored_and_asks_no_upstream_for_anything_else()
    {
        var root = TestPaths.NewTempDir("store");
        await using (var sync = await StartAsync("", root))
        {
            await AssertArtifactsAsync(sync.Client, HttpStatusCode.OK);
        }

        var before = _upstream.Requests.Count;
        await using var warren = await StartAsync("*=offline", root);
        await AssertArtifactsAsync(warren.Client, HttpStatusCode.OK);

        Assert.Equal("v1.13.0\n", await warren.Client.GetStringAsync($"{Color}/@v/list"));
        Assert.Contains("\"Version\":\"v1.13.0\"", await warren.Client.GetStringAsync($"{Color}/@latest"), StringComparison.Ordinal);

        var missing = await warren.Client.GetAsync($"{Color}/@v/v1.7.0.zip");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("not in this mirror: download mode offline for this path serves only what is stored (zip of github.com/fatih/color@v1.7.0 is not)\n",
            await missing.Content.ReadAsStringAsync());
        var unknown = await warren.Client.GetAsync("github.com/mattn/go-isatty/@v/list");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not in this mirror: download mode offline for this path, and no version of github.com/mattn/go-isatty is stored\n", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await warren.Client.GetAsync("github.com/mattn/go-isatty/@latest")).StatusCode);
        Assert.Equal(before, _upstream.Requests.Count);
        Assert.False(File.Exists(Stored(warren, Color, "v1.7.0", ArtifactKind.Zip)));
    }

    [Fact]
    public async Task Stored_versions_are_served_from_the_store_in_the_redirect_modes()
    {
        var root = TestPaths.NewTempDir("store");
        await using (var sync = await StartAsync("", root))
        {
            Assert.Equal(HttpStatusCode.OK, (await sync.Client.GetAsync($"{Color}/@v/{Version}.zip")).StatusCode);
        }

        foreach (var mode in new[] { "redirect", "async_redirect" })
        {
            await using var warren = await StartAsync("*=" + mode, root);
            using var http = NoRedirects(warren);
            var zip = await http.GetAsync($"{Color}/@v/{Version}.zip");
            Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
            Assert.Equal("application/zip", zip.Content.Headers.ContentType!.MediaType);
            Assert.Equal(HttpStatusCode.Found, (await http.GetAsync($"{Color}/@v/v1.7.0.zip")).StatusCode);
            Assert.Equal(1, _upstream.HitsFor($"/{Color}/@v/{Version}.zip"));
            Assert.Equal(0, _upstream.HitsFor("/v1.7.0.zip"));
        }
    }

    [Fact]
    public async Task The_Location_never_carries_the_credentials_configured_for_the_upstream()
    {
        var withUser = _upstream.Url.Replace("http://", "http://warren-bot:s3cret-pass@", StringComparison.Ordinal);
        await using var warren = await StartAsync("*=redirect", upstream: withUser, configure: o => o.UpstreamCredentialsOverHttp = true);
        using var http = NoRedirects(warren);
        var response = await http.GetAsync($"{Color}/@v/{Version}.mod");
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        var location = response.Headers.Location!.AbsoluteUri;
        Assert.Equal(UpstreamUrl($"/@v/{Version}.mod"), location);
        Assert.DoesNotContain("s3cret", location, StringComparison.Ordinal);
        Assert.DoesNotContain("warren-bot", location, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Access_control_answers_before_any_redirect()
    {
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", "github.com/fatih");
        await using var warren = await StartAsync("*=redirect", configure: o => o.AuthFile = file);
        using var http = NoRedirects(warren);

        var (granted, _, grantedResponse) = await AuthTestFiles.GetAsync(http, $"{Color}/@v/{Version}.zip", AuthTestFiles.Bearer(alice));
        Assert.Equal(302, granted);
        Assert.Equal(UpstreamUrl($"/@v/{Version}.zip"), grantedResponse.Headers.Location!.AbsoluteUri);

        var (forbidden, forbiddenBody, forbiddenResponse) = await AuthTestFiles.GetAsync(http, "github.com/mattn/go-isatty/@v/v0.0.14.zip", AuthTestFiles.Bearer(alice));
        Assert.Equal(403, forbidden);
        Assert.Null(forbiddenResponse.Headers.Location);
        Assert.Equal("forbidden: token \"alice\" has no grant matching github.com/mattn/go-isatty (its grants: github.com/fatih)\n", forbiddenBody);

        var (anonymous, _, anonymousResponse) = await AuthTestFiles.GetAsync(http, $"{Color}/@v/list");
        Assert.Equal(401, anonymous);
        Assert.Null(anonymousResponse.Headers.Location);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task The_go_client_downloads_through_redirect_with_the_manifest_hashes_and_nothing_is_stored()
    {
        await using var warren = await StartAsync("*=redirect");
        var go = new GoRunner(warren.Url);
        var work = TestPaths.NewTempDir("redirect");
        var wanted = new[] { (Color, Version), ("github.com/mattn/go-isatty", "v0.0.14") };

        var result = await go.RunAsync(work, ["mod", "download", "-json", .. wanted.Select(w => w.Item1 + "@" + w.Item2)]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var objects = GoRunner.JsonStream(result.Stdout);
        Assert.Equal(wanted.Length, objects.Count);
        foreach (var o in objects)
        {
            Assert.False(o.TryGetProperty("Error", out var error), error.ToString());
            var expected = Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!);
            Assert.Equal(expected.ZipHash, o.GetProperty("Sum").GetString());
            Assert.Equal(expected.ModHash, o.GetProperty("GoModSum").GetString());
        }

        var versions = await go.RunAsync(work, "list", "-m", "-versions", Color);
        Assert.True(versions.ExitCode == 0, versions.ToString());
        Assert.Equal("github.com/fatih/color v1.7.0 v1.13.0", versions.Stdout.Trim());

        // The go client fetched from the upstream, following Warren's redirects; Warren stored nothing.
        Assert.Equal(wanted.Length, _upstream.HitsFor(".zip"));
        Assert.False(HoldsAnything(warren));
        Assert.False(HoldsAnything(warren, "github.com/mattn/go-isatty"));
    }

    [Theory]
    [InlineData("direct", false)]
    [InlineData("all", true)]
    [InlineData("off", false)]
    public async Task An_info_from_a_proxy_upstream_leads_to_a_background_fetch_only_with_prefetch_all(string prefetch, bool fetched)
    {
        await using var warren = await StartAsync("", configure: o => o.Prefetch = prefetch);
        using (var info = await warren.Client.GetAsync($"{Color}/@v/{Version}.info"))
        {
            Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        }

        var queue = warren.Services.GetRequiredService<BackgroundFetchQueue>();
        if (fetched)
        {
            await WaitForAsync(() => HoldsVersion(warren) && queue.Pending == 0, "the prefetch of the .mod and .zip");
            Assert.Equal(Manifest.Get(Color, Version).ZipHash, Warren.Core.Modules.DirHash.HashZip(Stored(warren, Color, Version, ArtifactKind.Zip)));
        }
        else
        {
            Assert.Equal(0, queue.Pending);
            Assert.False(File.Exists(Stored(warren, Color, Version, ArtifactKind.Zip)));
        }

        // Fetched once each, whether the prefetch or the client asked first.
        using var zip = await warren.Client.GetAsync($"{Color}/@v/{Version}.zip");
        Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        Assert.Equal(1, _upstream.HitsFor($"/{Color}/@v/{Version}.zip"));
        Assert.Equal(1, _upstream.HitsFor($"/{Color}/@v/{Version}.mod"));
    }

    [Fact]
    public void An_unknown_prefetch_value_is_refused_in_one_line()
    {
        var options = new WarrenOptionsBuilder { Root = TestPaths.NewTempDir("prefetch-config"), Upstream = "off", SumDb = "off", Prefetch = "sometimes" }.Build();
        var failures = new WarrenOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains("prefetch must be direct, all or off, not \"sometimes\"", failures);
        Assert.Equal(PrefetchMode.Direct, new WarrenOptions().PrefetchMode);
        Assert.Equal(PrefetchMode.All, new WarrenOptions { Prefetch = " ALL " }.PrefetchMode);
    }
}

using Microsoft.Extensions.Logging;
using Warren.Fetch.Direct.Git;
using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Tests.Git;

/// <summary>Mirrors of repositories served by the shared git_serve.py (git smart HTTP on 127.0.0.1).</summary>
public sealed class GitMirrorManagerTests : IAsyncLifetime
{
    private readonly string _dir = TestPaths.NewTempDir("git-mirror");
    private readonly string _repos;
    private GitServe _serve = null!;

    public GitMirrorManagerTests()
    {
        _repos = Path.Combine(_dir, "repos");
        Directory.CreateDirectory(_repos);
    }

    public async Task InitializeAsync() => _serve = await GitServe.StartAsync(_repos);

    public async Task DisposeAsync()
    {
        await _serve.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private GitMirrorManager NewManager(Func<GitMirrorOptions, GitMirrorOptions>? configure = null, ILogger? logger = null, TimeSpan? shallowFirstAfter = null)
    {
        var options = new GitMirrorOptions
        {
            MirrorRoot = Path.Combine(_dir, "store", ".warren", "git"),
            GitConfigGlobal = "/dev/null",
            IgnoreSystemGitConfig = true,
            UseNetrc = false,
            NoProxy = "127.0.0.1,localhost",
            ShallowFirstAfter = shallowFirstAfter,
        };
        return new GitMirrorManager(configure?.Invoke(options) ?? options, logger: logger);
    }

    private static string[] Tags(string gitDir) =>
        TestGit.Run(null, "--git-dir=" + gitDir, "tag", "--list").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The inode number of a path (stat -c %i): unchanged while the directory is not replaced.</summary>
    private static string InodeOf(string path) => Processes.RunChecked("stat", null, null, "-c", "%i", path).Stdout.Trim();

    private static string[] LogLines(string gitDir) =>
        File.ReadAllLines(Path.Combine(gitDir, GitMirrorManager.MetadataDirectory, GitMirrorManager.OperationsLog));

    [Fact]
    public async Task Ensure_clones_then_refresh_fetches_only_the_new_tag_into_the_same_directory()
    {
        var up = TestGit.CreateUpstream(_repos, "git.example.test/team/lib.git");
        var first = up.Commit("first", "v1.0.0");
        up.Commit("feature work", branch: "feature");
        var url = $"{_serve.Url}/git.example.test/team/lib";
        using var manager = NewManager();

        var (gitDir, result) = await manager.EnsureAsync(url, default);

        Assert.Equal(DirectResult.Success, result);
        Assert.NotNull(gitDir);
        Assert.Equal(manager.GetMirrorDirectory(url), gitDir);
        Assert.StartsWith(manager.MirrorRoot, gitDir, StringComparison.Ordinal);
        Assert.EndsWith("-127.0.0.1-git.example.test-team-lib", gitDir, StringComparison.Ordinal);
        Assert.Equal(["v1.0.0"], Tags(gitDir));
        Assert.Equal(first, TestGit.Run(null, "--git-dir=" + gitDir, "rev-parse", "refs/heads/main"));
        Assert.Equal("refs/heads/main", TestGit.Run(null, "--git-dir=" + gitDir, "symbolic-ref", "HEAD"));
        Assert.Equal("true", TestGit.Run(null, "--git-dir=" + gitDir, "rev-parse", "--is-bare-repository"));
        Assert.Equal(url, TestGit.Run(null, "--git-dir=" + gitDir, "config", "--get", "remote.origin.url"));
        Assert.Equal("+refs/heads/*:refs/heads/*\n+refs/tags/*:refs/tags/*", TestGit.Run(null, "--git-dir=" + gitDir, "config", "--get-all", "remote.origin.fetch"));
        Assert.Equal("--no-tags", TestGit.Run(null, "--git-dir=" + gitDir, "config", "--get", "remote.origin.tagOpt"));
        Assert.Equal("true", TestGit.Run(null, "--git-dir=" + gitDir, "config", "--bool", "--get", "remote.origin.prune"));
        Assert.Equal("false", TestGit.Run(null, "--git-dir=" + gitDir, "config", "--bool", "--get", "core.logAllRefUpdates"));
        Assert.Equal(new GitMirrorStats(1, 0, 1, manager.GetStats(url).LastSuccess), manager.GetStats(url));
        Assert.Empty(Directory.GetDirectories(manager.MirrorRoot, ".tmp-*"));

        var marker = await File.ReadAllTextAsync(Path.Combine(gitDir, GitMirrorManager.MetadataDirectory, GitMirrorManager.CreatedMarker));
        var sentinel = Path.Combine(gitDir, "test-sentinel");
        await File.WriteAllTextAsync(sentinel, "still the same directory");
        var inode = InodeOf(gitDir);

        // Within the freshness window an unforced refresh does not touch the network.
        Assert.Equal(DirectResult.Success, await manager.RefreshAsync(url, force: false, default));
        Assert.Equal(1, manager.GetStats(url).RemoteChecks);

        // Upstream moves on: a new annotated tag, and the feature branch is deleted.
        var second = up.Commit("second", "v1.1.0", annotated: true);
        TestGit.Run(up.Work, "push", "--quiet", "origin", ":refs/heads/feature");
        Assert.Equal(DirectResult.Success, await manager.RefreshAsync(url, force: true, default));

        var stats = manager.GetStats(url);
        Assert.Equal(1, stats.Clones);
        Assert.Equal(1, stats.Fetches);
        Assert.Equal(["v1.0.0", "v1.1.0"], Tags(gitDir));
        Assert.Equal(second, TestGit.Run(null, "--git-dir=" + gitDir, "rev-parse", "v1.1.0^{commit}"));
        Assert.Equal("refs/heads/main", TestGit.Run(null, "--git-dir=" + gitDir, "for-each-ref", "--format=%(refname)", "refs/heads"));
        Assert.True(File.Exists(sentinel), "the mirror directory was recreated");
        Assert.Equal(inode, InodeOf(gitDir));
        Assert.Equal(marker, await File.ReadAllTextAsync(Path.Combine(gitDir, GitMirrorManager.MetadataDirectory, GitMirrorManager.CreatedMarker)));
        Assert.True(File.Exists(Path.Combine(gitDir, "FETCH_HEAD")), "an incremental git fetch wrote FETCH_HEAD");
        var log = LogLines(gitDir);
        Assert.Equal(2, log.Length);
        Assert.EndsWith(" clone ok", log[0], StringComparison.Ordinal);
        Assert.EndsWith(" fetch ok", log[1], StringComparison.Ordinal);

        // Nothing new upstream: a forced refresh checks (ls-remote) but does not fetch.
        Assert.Equal(DirectResult.Success, await manager.RefreshAsync(url, force: true, default));
        stats = manager.GetStats(url);
        Assert.Equal((1, 1, 3), (stats.Clones, stats.Fetches, stats.RemoteChecks));
        Assert.EndsWith(" check ok", LogLines(gitDir)[^1], StringComparison.Ordinal);

        // A new manager (a restart) reuses the mirror and its freshness stamp instead of cloning again.
        using var restarted = NewManager();
        Assert.Equal((gitDir, DirectResult.Success), await restarted.EnsureAsync(url, default));
        Assert.Equal(DirectResult.Success, await restarted.RefreshAsync(url, force: false, default));
        var restartedStats = restarted.GetStats(url);
        Assert.Equal((0, 0, 0), (restartedStats.Clones, restartedStats.Fetches, restartedStats.RemoteChecks));
        Assert.NotNull(restartedStats.LastSuccess);
    }

    [Fact]
    public async Task An_empty_origin_makes_an_empty_mirror_that_fetches_once_the_origin_has_commits()
    {
        var up = TestGit.CreateUpstream(_repos, "team/empty.git");
        var url = $"{_serve.Url}/team/empty";
        using var manager = NewManager();

        var (gitDir, result) = await manager.EnsureAsync(url, default);
        Assert.Equal(DirectResult.Success, result);
        Assert.NotNull(gitDir);
        Assert.Empty(Tags(gitDir));

        var first = up.Commit("first", "v1.0.0");
        Assert.Equal(DirectResult.Success, await manager.RefreshAsync(url, force: true, default));
        Assert.Equal(["v1.0.0"], Tags(gitDir));
        Assert.Equal(first, TestGit.Run(null, "--git-dir=" + gitDir, "rev-parse", "refs/tags/v1.0.0"));
    }

    [Theory]
    [InlineData("https://example.test/team/lib")]
    [InlineData("https://example.test/a\"quoted\"/back\\slash;semi#hash")]
    public void The_mirror_configuration_reads_back_as_written(string url)
    {
        var gitDir = Path.Combine(_dir, "config-" + Guid.NewGuid().ToString("N"));
        TestGit.Run(null, "init", "--bare", "--quiet", gitDir);
        File.AppendAllText(Path.Combine(gitDir, "config"), GitMirrorManager.MirrorConfig(url));

        Assert.Equal(url, TestGit.Run(null, "--git-dir=" + gitDir, "config", "--get", "remote.origin.url"));
        Assert.Equal("+refs/heads/*:refs/heads/*\n+refs/tags/*:refs/tags/*", TestGit.Run(null, "--git-dir=" + gitDir, "config", "--get-all", "remote.origin.fetch"));
        Assert.Throws<ArgumentException>(() => GitMirrorManager.ConfigValue("https://example.test/a\nb"));
    }

    [Fact]
    public async Task Concurrent_forced_refreshes_share_one_fetch()
    {
        var up = TestGit.CreateUpstream(_repos, "team/shared.git");
        up.Commit("first", "v0.1.0");
        var url = $"{_serve.Url}/team/shared.git";
        using var manager = NewManager();
        Assert.Equal(DirectResult.Success, (await manager.EnsureAsync(url, default)).Result);
        up.Commit("second", "v0.2.0");

        var calls = Enumerable.Range(0, 20).Select(_ => manager.RefreshAsync(url, force: true, default)).ToArray();
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.Equal(DirectResult.Success, r));
        var stats = manager.GetStats(url);
        Assert.Equal(1, stats.Clones);
        Assert.Equal(1, stats.Fetches);
        Assert.Equal(2, stats.RemoteChecks);
        var log = LogLines(manager.GetMirrorDirectory(url));
        Assert.Equal(1, log.Count(l => l.EndsWith(" fetch ok", StringComparison.Ordinal)));
        Assert.Contains("v0.2.0", Tags(manager.GetMirrorDirectory(url)));
    }

    [Fact]
    public async Task Concurrent_ensures_share_one_clone()
    {
        var up = TestGit.CreateUpstream(_repos, "team/once.git");
        up.Commit("first", "v1.0.0");
        var url = $"{_serve.Url}/team/once";
        using var manager = NewManager();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => manager.EnsureAsync(url, default)));

        Assert.All(results, r => Assert.Equal((manager.GetMirrorDirectory(url), DirectResult.Success), r));
        Assert.Equal(1, manager.GetStats(url).Clones);
    }

    [Fact]
    public async Task Missing_repository_is_not_found_and_leaves_nothing_behind()
    {
        using var manager = NewManager();
        var url = $"{_serve.Url}/team/no-such-repo";

        var (gitDir, result) = await manager.EnsureAsync(url, default);

        Assert.Null(gitDir);
        Assert.Equal(DirectStatus.NotFound, result.Status);
        Assert.Equal($"git ls-remote {url}: repository not found", result.Message);
        Assert.Empty(Directory.GetFileSystemEntries(manager.MirrorRoot));
        Assert.Equal(DirectStatus.NotFound, (await manager.RefreshAsync(url, force: false, default)).Status);
    }

    [Fact]
    public async Task Unreachable_host_is_a_failure()
    {
        using var manager = NewManager();
        var url = $"http://127.0.0.1:{Loopback.FreePort()}/team/lib";

        var (gitDir, result) = await manager.EnsureAsync(url, default);

        Assert.Null(gitDir);
        Assert.Equal(DirectStatus.Failed, result.Status);
        Assert.StartsWith($"git ls-remote {url}: ", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', result.Message);
        Assert.Empty(Directory.GetFileSystemEntries(manager.MirrorRoot));
    }

    [Fact]
    public async Task Disallowed_scheme_and_garbage_urls_are_refused_without_running_git()
    {
        using var manager = NewManager();

        Assert.Equal(DirectStatus.NotFound, (await manager.EnsureAsync("ext::sh -c touch% pwned", default)).Result.Status);
        Assert.Equal(DirectStatus.NotFound, (await manager.EnsureAsync("file:///etc", default)).Result.Status);
        Assert.Equal(DirectStatus.NotFound, (await manager.RefreshAsync("not a url", true, default)).Status);
    }

    [Fact]
    public async Task InsteadOf_from_the_configured_global_git_config_is_honoured()
    {
        var up = TestGit.CreateUpstream(_repos, "git.example.test/team/rewritten.git");
        up.Commit("first", "v1.0.0");
        var config = Path.Combine(_dir, "gitconfig");
        await File.WriteAllTextAsync(config, $"[url \"{_serve.Url}/git.example.test/\"]\n\tinsteadOf = https://git.example.test/\n");
        using var manager = NewManager(o => new GitMirrorOptions
        {
            MirrorRoot = o.MirrorRoot, GitConfigGlobal = config, IgnoreSystemGitConfig = true, UseNetrc = false, NoProxy = o.NoProxy,
        });

        var (gitDir, result) = await manager.EnsureAsync("https://git.example.test/team/rewritten", default);

        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(["v1.0.0"], Tags(gitDir!));
        Assert.Equal("https://git.example.test/team/rewritten", TestGit.Run(null, "--git-dir=" + gitDir, "config", "remote.origin.url"));
    }

    [Fact]
    public async Task Http_proxy_setting_reaches_git()
    {
        // git_serve.py answers absolute-form proxy requests; the host name does not resolve, so only the proxy can help.
        var up = TestGit.CreateUpstream(_repos, "git.example.invalid/team/proxied.git");
        up.Commit("first", "v2.0.0");
        using var manager = NewManager(o => new GitMirrorOptions
        {
            MirrorRoot = o.MirrorRoot, GitConfigGlobal = "/dev/null", IgnoreSystemGitConfig = true, UseNetrc = false,
            HttpProxy = _serve.Url, NoProxy = "localhost",
        });

        var (gitDir, result) = await manager.EnsureAsync("http://git.example.invalid/team/proxied", default);

        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(["v2.0.0"], Tags(gitDir!));
    }

    [Fact]
    public async Task Leftovers_of_a_crash_are_cleaned_and_a_half_made_mirror_is_replaced()
    {
        var up = TestGit.CreateUpstream(_repos, "team/crash.git");
        up.Commit("first", "v1.0.0");
        var url = $"{_serve.Url}/team/crash";
        var root = Path.Combine(_dir, "store", ".warren", "git");
        Directory.CreateDirectory(root);
        string? target;
        using (var probe = NewManager())
        {
            target = probe.GetMirrorDirectory(url);
        }

        var staging = Path.Combine(root, ".tmp-2147483646-0123456789abcdef");
        Directory.CreateDirectory(Path.Combine(staging, "objects"));
        Directory.CreateDirectory(Path.Combine(target, "objects"));
        await File.WriteAllTextAsync(Path.Combine(target, "HEAD"), "garbage\n");

        using var manager = NewManager();
        Assert.False(Directory.Exists(staging));

        var (gitDir, result) = await manager.EnsureAsync(url, default);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(target, gitDir);
        Assert.Equal(["v1.0.0"], Tags(gitDir!));
        Assert.Single(Directory.GetDirectories(root));
    }

    [Fact]
    public async Task Refresh_creates_a_missing_mirror_and_the_delegate_refreshes()
    {
        var up = TestGit.CreateUpstream(_repos, "team/delegate.git");
        up.Commit("first", "v1.0.0");
        var url = $"{_serve.Url}/team/delegate";
        using var manager = NewManager();
        var refresh = manager.RefreshDelegate(url);

        Assert.Equal(DirectResult.Success, await refresh(false, default));
        Assert.Equal(1, manager.GetStats(url).Clones);
        up.Commit("second", "v1.0.1");
        Assert.Equal(DirectResult.Success, await refresh(false, default));
        Assert.Equal(0, manager.GetStats(url).Fetches);
        Assert.Equal(DirectResult.Success, await refresh(true, default));
        Assert.Equal(1, manager.GetStats(url).Fetches);
        Assert.Contains("v1.0.1", Tags(manager.GetMirrorDirectory(url)));
    }

    [Fact]
    public async Task While_a_clone_takes_its_time_a_tag_is_read_from_a_depth_1_fetch_and_history_waits_for_the_mirror()
    {
        var up = TestGit.CreateUpstream(_repos, "team/shallow.git");
        var first = up.Write("go.mod", "module example.test/shallow\n").Commit("first", "v1.0.0");
        var second = up.Commit("second", "v1.1.0", annotated: true);
        var third = up.Commit("third");
        var url = $"{_serve.Url}/team/shallow";
        using var manager = NewManager(shallowFirstAfter: TimeSpan.Zero);
        var hold = new TaskCompletionSource();
        manager.HoldCloneFetches = hold;

        var access = await manager.EnsureOrShallowAsync(url, default);
        Assert.Equal(DirectResult.Success, access.Result);
        Assert.Null(access.GitDirectory);
        Assert.NotNull(access.Shallow);
        var clone = access.Shallow.Clone;
        Assert.Equal("refs/heads/main", clone.HeadBranch);
        Assert.Equal(third, clone.HashOf("HEAD"));
        Assert.Equal(second, clone.HashOf("refs/tags/v1.1.0")); // the annotated tag, peeled

        var shallowOnly = new ShallowFirstRepository(clone, _ => throw new InvalidOperationException("the complete mirror was read"));
        var v100 = await shallowOnly.ResolveAsync("refs/tags/v1.0.0", default);
        Assert.Equal(first, v100?.Hash);
        Assert.Equal(1, clone.Fetches); // v1.0.0 and the highest tag, v1.1.0, in one fetch
        Assert.True(clone.Has(second));
        Assert.Equal("module example.test/shallow\n"u8.ToArray(), await shallowOnly.ReadFileAsync(second, "go.mod", 1 << 20, default));
        Assert.Equal(second, (await shallowOnly.ResolveAsync(second, default))?.Hash);
        Assert.Equal(1, clone.Fetches);
        Assert.Equal("true", TestGit.Run(null, "--git-dir=" + clone.GitDirectory, "rev-parse", "--is-shallow-repository"));
        Assert.False(Directory.Exists(manager.GetMirrorDirectory(url)));

        // Tags merged into a commit need history: that waits for the mirror, which the held clone has not made.
        var withMirror = new ShallowFirstRepository(clone, async cancel =>
        {
            var (gitDir, result) = await manager.EnsureAsync(url, cancel);
            Assert.Equal(DirectResult.Success, result);
            return new LocalGitRepository(gitDir!, new GitRunner(), (_, _) => Task.FromResult(DirectResult.Success));
        });
        var merged = withMirror.TagsMergedIntoAsync(third, default);
        await Task.Delay(300);
        Assert.False(merged.IsCompleted);
        hold.SetResult();
        Assert.Equal(["refs/tags/v1.0.0", "refs/tags/v1.1.0"], (await merged).Order(StringComparer.Ordinal));
        Assert.True(withMirror.UsedComplete);

        // The mirror is complete now: the next request reads it; the copy goes when its last reader is done.
        var next = await manager.EnsureOrShallowAsync(url, default);
        Assert.Equal(manager.GetMirrorDirectory(url), next.GitDirectory);
        Assert.Null(next.Shallow);
        Assert.True(Directory.Exists(clone.GitDirectory));
        access.Shallow.Dispose();
        Assert.False(Directory.Exists(clone.GitDirectory));
        Assert.Equal(1, manager.GetStats(url).ShallowFetches);
    }

    [Fact]
    public async Task A_missing_repository_is_not_found_on_the_shallow_path_too_and_leaves_nothing_behind()
    {
        var url = $"{_serve.Url}/team/nothing-here";
        using var manager = NewManager(shallowFirstAfter: TimeSpan.Zero);

        var access = await manager.EnsureOrShallowAsync(url, default).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(DirectStatus.NotFound, access.Result.Status);
        Assert.Null(access.GitDirectory);
        Assert.Null(access.Shallow);
        Assert.Empty(Directory.GetDirectories(manager.MirrorRoot));
    }

    [Fact]
    public async Task A_clone_done_within_the_delay_is_read_as_a_mirror_and_no_shallow_fetch_is_made()
    {
        var up = TestGit.CreateUpstream(_repos, "team/quick.git");
        up.Commit("first", "v1.0.0");
        var url = $"{_serve.Url}/team/quick";
        using var manager = NewManager(shallowFirstAfter: TimeSpan.FromMinutes(5));

        var access = await manager.EnsureOrShallowAsync(url, default);
        Assert.Equal(manager.GetMirrorDirectory(url), access.GitDirectory);
        Assert.Null(access.Shallow);
        Assert.Equal(0, manager.GetStats(url).ShallowFetches);
        Assert.Empty(Directory.GetDirectories(manager.MirrorRoot, ".tmp-*"));
    }
}

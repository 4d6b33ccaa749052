using System.Globalization;
using System.Security.Cryptography;
using Warren.Core.Limits;
using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Tests.Git;

/// <summary>Resource limits of the mirrors, against repositories served by git_serve.py on 127.0.0.1: disk quota and
/// idleness pruning (on a manual clock), the repository size limit, and the process-wide git process limit.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class MirrorLimitsTests : IAsyncLifetime
{
    private readonly string _dir = TestPaths.NewTempDir("mirror-limits");
    private readonly string _repos;
    private readonly ManualTimeProvider _time = new();
    private GitServe _serve = null!;

    public MirrorLimitsTests()
    {
        _repos = Path.Combine(_dir, "repos");
        Directory.CreateDirectory(_repos);
    }

    public async Task InitializeAsync() => _serve = await GitServe.StartAsync(_repos);

    public async Task DisposeAsync()
    {
        await _serve.DisposeAsync();
        TestPaths.TryDeleteDirectory(_dir);
    }

    private GitMirrorManager NewManager(long? quota = null, TimeSpan? maxIdle = null, long? maxRepo = null, GitRunner? git = null) =>
        new(new GitMirrorOptions
        {
            MirrorRoot = Path.Combine(_dir, "store", ".warren", "git"),
            GitConfigGlobal = "/dev/null",
            IgnoreSystemGitConfig = true,
            UseNetrc = false,
            NoProxy = "127.0.0.1,localhost",
            TimeProvider = _time,
            QuotaBytes = quota,
            MaxIdle = maxIdle,
            MaxRepositoryBytes = maxRepo,
        }, git);

    private string NewRepo(string name, int extraBytes = 0)
    {
        var up = TestGit.CreateUpstream(_repos, $"git.example.test/team/{name}.git");
        if (extraBytes > 0)
        {
            up.Write("blob.txt", Convert.ToBase64String(RandomNumberGenerator.GetBytes(extraBytes)));
        }

        up.Commit("first", "v1.0.0");
        return $"{_serve.Url}/git.example.test/team/{name}";
    }

    private async Task<string> UseAsync(GitMirrorManager manager, string url)
    {
        using var lease = manager.Use(url);
        var (gitDir, result) = await manager.EnsureAsync(url, default);
        Assert.True(result.Status == DirectStatus.Ok, result.Message);
        return gitDir!;
    }

    [Fact]
    public async Task Over_the_quota_the_least_recently_used_mirror_not_in_use_is_pruned()
    {
        string[] urls = [NewRepo("a"), NewRepo("b"), NewRepo("c"), NewRepo("d")];
        using var measure = NewManager();
        var dirs = new List<string>();
        foreach (var url in urls)
        {
            dirs.Add(await UseAsync(measure, url));
        }

        var sizes = dirs.Select(GitMirrorManager.DirectorySize).ToArray();

        // Room for three of the four mirrors: one must go.
        using var manager = NewManager(quota: sizes.Sum() - sizes.Min() + 1);
        foreach (var url in urls)
        {
            _time.Advance(TimeSpan.FromMinutes(5));
            await UseAsync(manager, url);
        }

        // a is the least recently used, but in use now (a lease); b is next.
        _time.Advance(TimeSpan.FromMinutes(5));
        await UseAsync(manager, urls[2]);
        using (manager.Use(urls[0]))
        {
            Assert.Equal(1, await manager.PruneAsync(default));
        }

        Assert.True(Directory.Exists(dirs[0]), "a mirror in use was pruned");
        Assert.False(Directory.Exists(dirs[1]), "the least recently used idle mirror was kept");
        Assert.True(Directory.Exists(dirs[2]) && Directory.Exists(dirs[3]));
        Assert.Equal(0, await manager.PruneAsync(default));

        // A pruned mirror is cloned again when next asked for.
        Assert.Equal(dirs[1], await UseAsync(manager, urls[1]));
        Assert.True(File.Exists(Path.Combine(dirs[1], GitMirrorManager.MetadataDirectory, GitMirrorManager.CreatedMarker)));
    }

    [Fact]
    public async Task Mirrors_unused_for_longer_than_the_idle_limit_are_pruned_also_after_a_restart()
    {
        var (oldUrl, newUrl) = (NewRepo("old"), NewRepo("new"));
        string oldDir, newDir;
        using (var first = NewManager(maxIdle: TimeSpan.FromDays(30)))
        {
            oldDir = await UseAsync(first, oldUrl);
            _time.Advance(TimeSpan.FromDays(20));
            newDir = await UseAsync(first, newUrl);
            _time.Advance(TimeSpan.FromDays(5));
            Assert.Equal(0, await first.PruneAsync(default));
        }

        // A new manager (a restarted server) knows the last uses only from the mirrors' stamps.
        using var manager = NewManager(maxIdle: TimeSpan.FromDays(30));
        _time.Advance(TimeSpan.FromDays(6));
        Assert.Equal(1, await manager.PruneAsync(default));
        Assert.False(Directory.Exists(oldDir));
        Assert.True(Directory.Exists(newDir));
    }

    [Fact]
    public async Task A_repository_over_the_size_limit_is_refused_its_mirror_deleted_and_the_refusal_remembered()
    {
        var big = NewRepo("big", extraBytes: 300_000);
        var small = NewRepo("small");
        var git = new CountingGitRunner();
        using var manager = NewManager(maxRepo: 100 * 1024, git: git);

        var (gitDir, result) = await manager.EnsureAsync(big, default);
        Assert.Null(gitDir);
        Assert.Equal(DirectStatus.Failed, result.Status);
        Assert.Contains("larger than the limit of 102400 bytes (max-repo-size)", result.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(manager.GetMirrorDirectory(big)));
        Assert.Empty(Directory.GetDirectories(manager.MirrorRoot, ".tmp-*"));

        var runs = git.Runs;
        var (_, again) = await manager.EnsureAsync(big, default);
        Assert.Equal(result, again);
        Assert.Equal(runs, git.Runs);

        // Later, it is tried again (and refused again); a small repository is fine meanwhile.
        Assert.Equal(DirectStatus.Ok, (await manager.EnsureAsync(small, default)).Result.Status);
        _time.Advance(TimeSpan.FromMinutes(11));
        runs = git.Runs;
        Assert.Equal(DirectStatus.Failed, (await manager.RefreshAsync(big, force: true, default)).Status);
        Assert.True(git.Runs > runs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Never_more_git_processes_at_once_than_the_limit(int limit)
    {
        string[] urls = [.. Enumerable.Range(0, 6).Select(i => NewRepo("p" + i))];
        var wrapper = WriteCountingGit(Path.Combine(_dir, "git-wrapper"));
        var git = new GitRunner(wrapper.Script) { ProcessGate = new ConcurrencyGate(limit) };
        using var manager = NewManager(git: git);

        var results = await Task.WhenAll(urls.Select(u => manager.EnsureAsync(u, default)));

        Assert.All(results, r => Assert.Equal(DirectStatus.Ok, r.Result.Status));
        var peak = File.ReadAllLines(wrapper.Log).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).Max();
        Assert.True(peak <= limit, $"{peak} git processes ran at once, limit {limit}");
        if (limit > 1)
        {
            // The wrapper does see concurrency when the limit allows it (so the check above can fail).
            Assert.True(peak > 1, $"peak {peak}");
        }

        Assert.Equal(0, git.ProcessGate.InUse);
        Assert.True(git.ProcessGate.Peak <= limit);
    }

    [Fact]
    public async Task Waiting_for_a_git_process_slot_respects_cancellation()
    {
        var url = NewRepo("wait");
        var gate = new ConcurrencyGate(1);
        var git = new GitRunner { ProcessGate = gate };
        using var held = await gate.EnterAsync(default);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => git.RunAsync(null, ["ls-remote", url], TimeSpan.FromMinutes(1), cts.Token));
        Assert.Equal(0, gate.Waiting);
    }

    /// <summary>A git wrapper that records how many wrapped gits run at once (one line per start).</summary>
    private static (string Script, string Log) WriteCountingGit(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "running"));
        var log = Path.Combine(dir, "concurrency.log");
        var script = Path.Combine(dir, "git");
        File.WriteAllText(script, $"""
            #!/bin/sh
            touch "{dir}/running/$$"
            ls "{dir}/running" | wc -l | tr -d ' ' >> "{log}"
            sleep 0.05
            git "$@"
            rc=$?
            rm -f "{dir}/running/$$"
            exit $rc

            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return (script, log);
    }

    private sealed class CountingGitRunner : GitRunner
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public override Task<GitRun> RunAsync(string? workingDirectory, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken,
            string? stdoutFile = null, IReadOnlyDictionary<string, string>? extraEnvironment = null)
        {
            Interlocked.Increment(ref _runs);
            return base.RunAsync(workingDirectory, args, timeout, cancellationToken, stdoutFile, extraEnvironment);
        }
    }
}

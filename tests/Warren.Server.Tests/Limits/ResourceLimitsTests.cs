using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Modules;
using Warren.Storage;
using Warren.Server.Endpoints;
using Warren.Server.Ingest;
using Warren.Server.Storage;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Limits;

/// <summary>Resource limits: bounded memory caches, deterministic closing of evicted open files, the global limit on
/// outbound fetches, pruning of cached answers, and the repository size limit in direct mode.</summary>
public sealed class ResourceLimitsTests
{
    [Fact]
    public void The_small_artifact_cache_is_bounded_by_count_and_by_bytes()
    {
        var byCount = new SmallArtifactCache(budgetBytes: 1L << 30, maxEntries: 100);
        for (var i = 0; i < 1000; i++)
        {
            byCount.Add("k" + i, Artifact(10));
        }

        Assert.True(byCount.Count <= 100, $"count {byCount.Count}");
        Assert.True(byCount.TryGet("k999", out _));

        var byBytes = new SmallArtifactCache(budgetBytes: 100_000, maxEntryBytes: 10_000, maxEntries: 1_000_000);
        for (var i = 0; i < 1000; i++)
        {
            byBytes.Add("k" + i, Artifact(5_000));
        }

        Assert.True(byBytes.Bytes <= 100_000, $"bytes {byBytes.Bytes}");
        Assert.InRange(byBytes.Count, 10, 20);

        byBytes.Add("too-big", Artifact(10_001));
        Assert.False(byBytes.TryGet("too-big", out _));
    }

    [Fact]
    public void The_negative_cache_is_bounded_and_forgets_after_its_ttl()
    {
        var time = new ManualTimeProvider();
        var cache = new NegativeCache(time, maxEntries: 100);
        for (var i = 0; i < 1000; i++)
        {
            cache.Add("k" + i, Outcome.NotFound("not found"), TimeSpan.FromMinutes(1));
        }

        Assert.True(cache.Count <= 100, $"count {cache.Count}");
        Assert.True(cache.TryGet("k999", out var outcome) && outcome.Kind == OutcomeKind.NotFound);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(cache.TryGet("k999", out _));
    }

    [Fact]
    public void Evicted_open_files_are_closed_at_once_or_when_the_response_reading_them_ends()
    {
        var dir = TestPaths.NewTempDir("open-files");
        var cache = new OpenFileCache(capacity: 2);
        OpenArtifact Open(string name)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, "content of " + name);
            var info = new FileInfo(path);
            return cache.Open(name, new TestStoredFile(path, info.Length, DateTimeOffset.UnixEpoch, "\"e\""))!;
        }

        var a = Open("a");
        var b = Open("b");
        Assert.True(a.TryAcquire(), "a response starts reading a");
        Assert.True(cache.TryGet("b", out _));

        // a is the least recently used: evicted, but still open for the response that reads it.
        var c = Open("c");
        Assert.False(cache.TryGet("a", out _));
        Assert.False(a.Handle.IsClosed);
        var buffer = new byte[32];
        Assert.Equal("content of a".Length, RandomAccess.Read(a.Handle, buffer, 0));
        a.Release();
        Assert.True(a.Handle.IsClosed);
        Assert.False(a.TryAcquire());

        // c is used now, so b is the one that goes: nobody reads it, it is closed at once.
        Assert.True(cache.TryGet("c", out _));
        Open("d");
        Assert.True(b.Handle.IsClosed);
        Assert.False(c.Handle.IsClosed);
        Assert.Equal(2, cache.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Never_more_outbound_fetches_at_once_than_the_limit(int limit)
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        int running = 0, peak = 0;
        upstream.Intercept = async _ =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            await Task.Delay(150);
            Interlocked.Decrement(ref running);
            return false;
        };
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.MaxConcurrentFetches = limit);

        var modules = Manifest.All.DistinctBy(e => e.Path).Take(6).ToList();
        var responses = await Task.WhenAll(modules.Select(e => warren.Client.GetAsync(Escaped(e) + ".info")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.True(peak <= limit, $"{peak} upstream requests at once, limit {limit}");
        if (limit > 1)
        {
            Assert.True(peak > 1, $"peak {peak}: the requests did not overlap, so the check proves nothing");
        }

        var metrics = await warren.Client.GetStringAsync("metrics");
        Assert.Contains("warren_outbound_fetches_in_use 0\n", metrics, StringComparison.Ordinal);
        Assert.Contains("warren_git_processes_waiting 0\n", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Maintenance_prunes_cached_answers_to_the_configured_count()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.AnswersMaxCount = 2);
        foreach (var e in Manifest.All.DistinctBy(e => e.Path).Take(4))
        {
            ModulePath.TryEscapePath(e.Path, out var p, out _);
            Assert.Equal(HttpStatusCode.OK, (await warren.Client.GetAsync(p + "/@v/list")).StatusCode);
        }

        var index = warren.Services.GetRequiredService<Warren.Storage.IModuleIndex>();
        Assert.Equal(4, await index.CountAnswersAsync(default));
        var (answers, mirrors) = await warren.Services.GetRequiredService<StoreMaintenance>().RunOnceAsync(default);
        Assert.Equal(2, answers);
        Assert.Equal(0, mirrors);
        Assert.Equal(2, await index.CountAnswersAsync(default));
    }

    [Fact]
    public async Task In_direct_mode_a_repository_over_max_repo_size_is_refused_with_a_502_naming_the_limit()
    {
        var dir = TestPaths.NewTempDir("max-repo");
        var repos = Path.Combine(dir, "repos");
        var big = TestGit.CreateUpstream(repos, "github.com/big/repo.git");
        big.Write("go.mod", "module github.com/big/repo\n").Write("blob.txt", Convert.ToBase64String(RandomNumberGenerator.GetBytes(300_000)));
        big.Commit("big", "v1.0.0");
        var small = TestGit.CreateUpstream(repos, "github.com/small/repo.git");
        small.Write("go.mod", "module github.com/small/repo\n");
        small.Commit("small", "v1.0.0");
        await using var serve = await GitServe.StartAsync(repos);
        var gitConfig = TestGit.WriteGitHubInsteadOf(Path.Combine(dir, "gitconfig"), serve.Url);

        await using var warren = await WarrenInstance.StartAsync("direct", o =>
        {
            o.GitConfig = gitConfig;
            o.MaxRepoSize = "100K";
            o.EgressAllow = $"127.0.0.1:{serve.Port}";
        });

        using var refused = await warren.Client.GetAsync("github.com/big/repo/@v/list");
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Contains("larger than the limit of 102400 bytes (max-repo-size)", body, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', body.TrimEnd());
        Assert.Empty(Directory.GetDirectories(Path.Combine(warren.Root, ".warren", "git"), "*big-repo"));

        using var fine = await warren.Client.GetAsync("github.com/small/repo/@v/list");
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        Assert.Equal("v1.0.0\n", await fine.Content.ReadAsStringAsync());
    }

    private static CachedArtifact Artifact(int size) => new(new byte[size], "\"e\"", DateTimeOffset.UnixEpoch);

    private static string Escaped(ManifestEntry e)
    {
        ModulePath.TryEscapePath(e.Path, out var p, out _);
        ModulePath.TryEscapeVersion(e.Version, out var v, out _);
        return $"{p}/@v/{v}";
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}

/// <summary>The limit options are checked at start-up, one line per problem.</summary>
public sealed class ResourceLimitOptionsTests
{
    [Fact]
    public void Bad_limits_are_refused_one_line_each()
    {
        var options = new Configuration.WarrenOptions
        {
            Root = "/store",
            Upstream = "off",
            MaxConcurrentFetches = 0,
            MaxGitProcesses = -1,
            MemoryCacheBytes = 0,
            MirrorQuota = "20X",
            MaxRepoSize = "-5G",
            MirrorMaxIdle = TimeSpan.Zero,
        };
        var result = new Configuration.WarrenOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains("max concurrent fetches must be at least 1, not 0", failures);
        Assert.Contains("max git processes must be at least 1, not -1", failures);
        Assert.Contains("memory cache bytes must be at least 1, not 0", failures);
        Assert.Contains(failures, f => f.StartsWith("mirror quota: invalid size \"20X\"", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("max repo size: invalid size \"-5G\"", StringComparison.Ordinal));
        Assert.Contains("mirror max idle must be positive, not 00:00:00", failures);
        Assert.All(failures, f => Assert.DoesNotContain('\n', f));
    }

    [Fact]
    public void Good_limits_pass()
    {
        var options = new Configuration.WarrenOptions { Root = "/store", Upstream = "off", MirrorQuota = "20G", MaxRepoSize = "500M", MirrorMaxIdle = TimeSpan.FromDays(30) };
        Assert.True(new Configuration.WarrenOptionsValidator().Validate(null, options).Succeeded);
    }
}

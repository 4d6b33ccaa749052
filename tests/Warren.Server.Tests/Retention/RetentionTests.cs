using System.IO.Compression;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Modules;
using Warren.Storage;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Retention;

/// <summary>A store of the corpus versions whose zip is under 1 MiB (most of the corpus, small enough to fetch in a
/// few seconds), filled once through Warren by the real go client; each test works on a copy of it.</summary>
public sealed class RetentionCorpus : IAsyncLifetime
{
    public static readonly IReadOnlyList<ManifestEntry> Versions = Manifest.All.Where(e => new FileInfo(e.ZipPath).Length < (1 << 20)).ToList();

    public static string[] Args => Versions.Select(e => e.ToString()).ToArray();

    public FakeUpstream Upstream { get; private set; } = null!;

    private string _root = "";

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        _root = TestPaths.NewTempDir("gc-template");
        await using var warren = await WarrenInstance.StartAsync(Upstream.Url, root: _root);
        var result = await new GoRunner(warren.Url).RunAsync(TestPaths.NewTempDir("gc-fill"), ["mod", "download", "-json", .. Args]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>A copy of the filled store (and its index).</summary>
    public string CopyStore()
    {
        var target = TestPaths.NewTempDir("gc-store");
        foreach (var file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(_root, file);
            if (relative.StartsWith(Path.Combine(".warren", "staging"), StringComparison.Ordinal) || relative.EndsWith(".lock", StringComparison.Ordinal))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
            File.Copy(file, Path.Combine(target, relative));
        }

        return target;
    }

    public async Task DisposeAsync() => await Upstream.DisposeAsync();
}

/// <summary>Retention on a bounded disk (warren store gc, serve --store-quota) with the real go client on loopback.</summary>
public sealed class RetentionTests(RetentionCorpus corpus) : IClassFixture<RetentionCorpus>
{
    private static readonly string[] ModuleFileExtensions = [".info", ".mod", ".zip", ".ziphash"];

    /// <summary>The module files of a store directory (what retention counts), relative path → size.</summary>
    private static Dictionary<string, long> ModuleFiles(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "@v" && ModuleFileExtensions.Contains(Path.GetExtension(f)) &&
                        !Path.GetRelativePath(root, f).StartsWith(".warren", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(root, f), f => new FileInfo(f).Length);

    private static long StoreBytes(string root)
    {
        try
        {
            return ModuleFiles(root).Values.Sum();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return StoreBytes(root);
        }
    }

    private static string VersionFile(string root, ManifestEntry e, string extension) =>
        Path.Combine(root, Manifest.Escape(e.Path), "@v", Manifest.Escape(e.Version) + extension);

    private static Task<ProcessResult> GcAsync(string root, params string[] args) =>
        Processes.RunAsync("dotnet", null, null, [WarrenProcess.Dll, "store", "gc", "--root", root, .. args], timeout: TimeSpan.FromMinutes(2));

    /// <summary>go mod download of the versions through url with a fresh module cache: every h1 as in the manifest.</summary>
    private static async Task DownloadAndCheckAsync(string url, string what)
    {
        var result = await new GoRunner(url).RunAsync(TestPaths.NewTempDir(what), ["mod", "download", "-json", .. RetentionCorpus.Args]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var objects = GoRunner.JsonStream(result.Stdout);
        Assert.Equal(RetentionCorpus.Versions.Count, objects.Count);
        Assert.All(objects, o =>
        {
            var entry = Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!);
            Assert.Equal(entry.ZipHash, o.GetProperty("Sum").GetString());
            Assert.Equal(entry.ModHash, o.GetProperty("GoModSum").GetString());
        });
    }

    [Fact]
    public async Task Under_a_quota_the_store_stays_below_it_while_the_versions_are_downloaded_twice()
    {
        const long quota = 6 << 20;
        var all = RetentionCorpus.Versions.Sum(e => new FileInfo(e.ZipPath).Length);
        Assert.True(all > 2 * quota, $"the versions ({all} bytes) should not fit in the quota");
        await using var warren = await WarrenInstance.StartAsync(corpus.Upstream.Url, o =>
        {
            o.StoreQuota = "6MB";
            o.UsageFlushInterval = TimeSpan.FromSeconds(1);
        });

        // The store is measured all along: above 90% of the quota eviction starts and brings it to 80%; a download that
        // would take it over the quota waits for that.
        long highest = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                highest = Math.Max(highest, StoreBytes(warren.Root));
                await Task.Delay(50);
            }
        });
        await DownloadAndCheckAsync(warren.Url, "quota-first");
        await DownloadAndCheckAsync(warren.Url, "quota-second");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (StoreBytes(warren.Root) > quota && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await sampler;
        var final = StoreBytes(warren.Root);
        Assert.InRange(final, 1, quota);
        Assert.InRange(highest, quota / 2, quota);

        // Versions were evicted and fetched again (verified against the recorded hashes), and the index knows both.
        var usage = await warren.Services.GetRequiredService<IModuleIndex>().ReadUsageAsync(CancellationToken.None);
        Assert.Contains(usage, u => u.EvictedAt is not null);
        Assert.True(usage.Sum(u => u.Downloads) >= RetentionCorpus.Versions.Count, $"{usage.Sum(u => u.Downloads)} downloads recorded");
        Assert.True(corpus.Upstream.HitsFor(".zip") > RetentionCorpus.Versions.Count);
    }

    [Fact]
    public async Task An_evicted_version_comes_back_byte_identical_and_stays_in_the_feed()
    {
        var root = corpus.CopyStore();
        var gc = await GcAsync(root, "--max-size", "0", "--json");
        Assert.True(gc.ExitCode == 0, gc.ToString());
        Assert.Empty(ModuleFiles(root));
        Assert.Contains($"\"evicted {RetentionCorpus.Versions.Count} of {RetentionCorpus.Versions.Count} versions", gc.Stdout, StringComparison.Ordinal);

        await using var warren = await WarrenInstance.StartAsync(corpus.Upstream.Url, root: root);
        var feed = (await warren.Client.GetStringAsync("/index")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(RetentionCorpus.Versions.Count, feed.Length);

        var entry = RetentionCorpus.Versions.First(e => e.Path == "github.com/pkg/errors");
        var zip = await warren.Client.GetByteArrayAsync($"/{Manifest.Escape(entry.Path)}/@v/{entry.Version}.zip");
        Assert.Equal(await File.ReadAllBytesAsync(entry.ZipPath), zip);
        Assert.Equal(zip, await File.ReadAllBytesAsync(VersionFile(root, entry, ".zip")));
        Assert.Equal(entry.ZipHash, (await File.ReadAllTextAsync(VersionFile(root, entry, ".ziphash"))).Trim());
        await DownloadAndCheckAsync(warren.Url, "evicted-again");
        Assert.Equal(RetentionCorpus.Versions.Count, ModuleFiles(root).Keys.Count(k => k.EndsWith(".zip", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_evicted_zip_that_upstream_now_serves_changed_is_refused()
    {
        const string module = "example.com/retention/changed";
        var upstreamRoot = TestPaths.NewTempDir("gc-changed-up");
        var dir = Path.Combine(upstreamRoot, "example.com", "retention", "changed", "@v");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "v1.0.0.mod"), $"module {module}\n");
        void WriteZip(string content)
        {
            File.Delete(Path.Combine(dir, "v1.0.0.zip"));
            using var zip = ZipFile.Open(Path.Combine(dir, "v1.0.0.zip"), ZipArchiveMode.Create);
            using (var writer = new StreamWriter(zip.CreateEntry($"{module}@v1.0.0/go.mod").Open()))
            {
                writer.Write($"module {module}\n");
            }

            using (var writer = new StreamWriter(zip.CreateEntry($"{module}@v1.0.0/a.go").Open()))
            {
                writer.Write(content);
            }
        }

        WriteZip("package changed\n");
        await using var upstream = await FakeUpstream.StartAsync(upstreamRoot);
        var root = TestPaths.NewTempDir("gc-changed");
        await using (var first = await WarrenInstance.StartAsync(upstream.Url, root: root))
        {
            Assert.True((await first.Client.GetAsync($"/{module}/@v/v1.0.0.zip")).IsSuccessStatusCode);
        }

        var gc = await GcAsync(root, "--max-size", "0");
        Assert.True(gc.ExitCode == 0, gc.ToString());
        WriteZip("package changed // not what was stored first\n");
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, root: root);
        using var response = await warren.Client.GetAsync($"/{module}/@v/v1.0.0.zip");
        Assert.False(response.IsSuccessStatusCode);
        Assert.Contains("recorded when this version was first stored", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(root, "*.zip", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Private_patterns_are_never_evicted()
    {
        var root = corpus.CopyStore();
        var kept = RetentionCorpus.Versions.Where(e => e.Path.StartsWith("github.com/spf13/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(kept);
        var before = ModuleFiles(root);

        var gc = await GcAsync(root, "--max-size", "0", "--private", "github.com/spf13", "--older-than", "00:00:01");
        Assert.True(gc.ExitCode == 0, gc.ToString());
        var after = ModuleFiles(root);
        var keptFiles = before.Where(f => f.Key.StartsWith(Path.Combine("github.com", "spf13") + Path.DirectorySeparatorChar, StringComparison.Ordinal)).ToList();
        Assert.Equal(keptFiles.Count, after.Count);
        Assert.All(keptFiles, f => Assert.Equal(f.Value, after[f.Key]));
        Assert.Contains($"{kept.Count} kept by --keep", gc.Stdout, StringComparison.Ordinal);

        // --keep replaces the default.
        var again = await GcAsync(root, "--max-size", "0", "--private", "github.com/spf13", "--keep", "github.com/spf13/cobra");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.All(ModuleFiles(root).Keys, k => Assert.StartsWith(Path.Combine("github.com", "spf13", "cobra"), k, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dry_run_deletes_nothing()
    {
        var root = corpus.CopyStore();
        var before = ModuleFiles(root);
        var gc = await GcAsync(root, "--max-size", "1MB", "--policy", "lfu", "--dry-run", "--json");
        Assert.True(gc.ExitCode == 0, gc.ToString());
        using var report = JsonDocument.Parse(gc.Stdout);
        var wouldEvict = report.RootElement.GetProperty("findings").EnumerateArray().Count(f => f.GetProperty("check").GetString() == "gc.would-evict");
        Assert.InRange(wouldEvict, RetentionCorpus.Versions.Count / 2, RetentionCorpus.Versions.Count - 1);
        Assert.Equal(before, ModuleFiles(root));
    }

    [Theory]
    [InlineData(new[] { "--older-than", "00:00:01", "--policy", "mru" }, "--policy mru: want lru, lfu or age")]
    [InlineData(new[] { "--max-size", "12XB" }, "--max-size: invalid size")]
    [InlineData(new string[0], "say what to evict")]
    public async Task Bad_arguments_are_refused_with_one_line(string[] args, string message)
    {
        var gc = await GcAsync(TestPaths.NewTempDir("gc-bad"), args);
        Assert.Equal(64, gc.ExitCode);
        Assert.Contains(message, gc.Stderr, StringComparison.Ordinal);
        Assert.Single(gc.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("12XB", "store quota: invalid size")]
    [InlineData("-5GB", "store quota: invalid size")]
    public void A_bad_store_quota_is_refused_at_start_up_with_one_line(string quota, string problem)
    {
        var options = new Configuration.WarrenOptionsBuilder { Root = TestPaths.NewTempDir("quota-config"), Upstream = "off", SumDb = "off", StoreQuota = quota }.Build();
        var failures = new Configuration.WarrenOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains(failures, f => f.Contains(problem, StringComparison.Ordinal) && !f.Contains('\n', StringComparison.Ordinal));
        Assert.True(new Configuration.WarrenOptionsValidator().Validate(null, new Configuration.WarrenOptionsBuilder
        {
            Root = TestPaths.NewTempDir("quota-config"), Upstream = "off", SumDb = "off", StoreQuota = "500MB",
        }.Build()).Succeeded);
    }

    [Fact]
    public async Task Kill_9_mid_gc_leaves_a_store_that_passes_the_corpus_check()
    {
        string? root = null;
        var initial = RetentionCorpus.Versions.Count;
        for (var attempt = 0; attempt < 5 && root is null; attempt++)
        {
            var candidate = corpus.CopyStore();
            using var gc = BackgroundProcess.Start("dotnet", [WarrenProcess.Dll, "store", "gc", "--root", candidate, "--max-size", "0"]);
            var zips = initial;
            while (!gc.HasExited && zips == initial)
            {
                zips = Directory.EnumerateFiles(candidate, "*.zip", SearchOption.AllDirectories).Count();
            }

            gc.Kill();
            var left = Directory.EnumerateFiles(candidate, "*.zip", SearchOption.AllDirectories).Count();
            if (left > 0 && left < initial)
            {
                root = candidate;
            }
        }

        Assert.True(root is not null, "warren store gc was never caught mid-way");

        // Every file left verifies: a zip has its .ziphash and the manifest's h1, a .mod the manifest's go.mod h1.
        foreach (var entry in RetentionCorpus.Versions)
        {
            var zip = VersionFile(root, entry, ".zip");
            if (File.Exists(zip))
            {
                Assert.Equal(entry.ZipHash, DirHash.HashZip(zip, CancellationToken.None));
                Assert.Equal(entry.ZipHash, (await File.ReadAllTextAsync(VersionFile(root, entry, ".ziphash"))).Trim());
            }

            var mod = VersionFile(root, entry, ".mod");
            if (File.Exists(mod))
            {
                Assert.Equal(entry.ModHash, DirHash.HashGoMod(await File.ReadAllBytesAsync(mod)));
            }
        }

        // And the go client gets every version through Warren, h1 as in the manifest.
        await using var warren = await WarrenInstance.StartAsync(corpus.Upstream.Url, root: root);
        await DownloadAndCheckAsync(warren.Url, "after-kill");
    }
}

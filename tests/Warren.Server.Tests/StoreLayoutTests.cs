using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>The store has the layout of GOMODCACHE/cache/download, both ways.</summary>
public sealed class StoreLayoutTests
{
    private static readonly string[] Modules = ["github.com/pkg/errors@v0.9.1", "github.com/BurntSushi/toml@v1.2.0", "gopkg.in/yaml.v3@v3.0.1", "github.com/gofrs/uuid@v4.3.1+incompatible"];

    [Fact]
    public async Task A_store_is_a_file_GOPROXY_and_a_module_cache_seeds_a_store()
    {
        // Fill a store through Warren.
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        string root;
        await using (var warren = await WarrenInstance.StartAsync(upstream.Url))
        {
            root = warren.Root;
            var fill = await new GoRunner(warren.Url).RunAsync(TestPaths.NewTempDir("fill"), ["mod", "download", "-json", .. Modules]);
            Assert.True(fill.ExitCode == 0, fill.ToString());
        }

        // The go command reads the store directly as GOPROXY=file://.
        var direct = new GoRunner("file://" + root);
        var fromFile = await direct.RunAsync(TestPaths.NewTempDir("file"), ["mod", "download", "-json", .. Modules]);
        Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
        AssertManifestHashes(fromFile.Stdout);
        var versions = await direct.RunAsync(TestPaths.NewTempDir("file"), "list", "-m", "-versions", "github.com/pkg/errors");
        Assert.Equal("github.com/pkg/errors v0.9.1", versions.Stdout.Trim());

        // A developer's module cache is a store: Warren serves it with no upstream at all.
        var seed = Path.Combine(direct.ModCache, "cache", "download");
        await using var seeded = await WarrenInstance.StartAsync("off", root: seed);
        var fromSeed = await new GoRunner(seeded.Url).RunAsync(TestPaths.NewTempDir("seeded"), ["mod", "download", "-json", .. Modules]);
        Assert.True(fromSeed.ExitCode == 0, fromSeed.ToString());
        AssertManifestHashes(fromSeed.Stdout);
    }

    private static void AssertManifestHashes(string json)
    {
        var objects = GoRunner.JsonStream(json);
        Assert.Equal(Modules.Length, objects.Count);
        foreach (var o in objects)
        {
            var e = Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!);
            Assert.Equal(e.ZipHash, o.GetProperty("Sum").GetString());
            Assert.Equal(e.ModHash, o.GetProperty("GoModSum").GetString());
        }
    }
}

using Warren.Protocol.ModCache;

namespace Warren.Protocol.Tests.ModCache;

public sealed class ModCacheLayoutTests
{
    [Fact]
    public void Files_live_in_the_download_cache_under_escaped_names()
    {
        var root = TestPaths.NewTempDir("modcache-layout");
        var layout = new ModCacheLayout(root);
        Assert.Equal(Path.Combine(root, "cache", "download"), layout.DownloadRoot);
        Assert.Equal(Path.Combine(root, "cache", "download", "github.com", "!burnt!sushi", "toml", "@v", "v1.2.0.ziphash"),
            layout.PathOf("github.com/BurntSushi/toml", "v1.2.0", ".ziphash"));
        Assert.Throws<ArgumentException>(() => layout.PathOf("example.com/m", "bad!", ".zip"));
    }

    [Fact]
    public async Task Writes_are_atomic_and_a_zip_counts_only_with_its_hash()
    {
        var root = TestPaths.NewTempDir("modcache-write");
        var layout = new ModCacheLayout(root);
        Assert.False(layout.HasZip("example.com/m", "v1.0.0", null));

        await layout.WriteAtomicallyAsync("example.com/m", "v1.0.0", ".zip", [1, 2, 3], CancellationToken.None);
        Assert.False(layout.HasZip("example.com/m", "v1.0.0", null));
        await layout.WriteAtomicallyAsync("example.com/m", "v1.0.0", ".ziphash", "h1:abc="u8.ToArray(), CancellationToken.None);
        Assert.True(layout.HasZip("example.com/m", "v1.0.0", null));
        Assert.True(layout.HasZip("example.com/m", "v1.0.0", "h1:abc="));
        Assert.False(layout.HasZip("example.com/m", "v1.0.0", "h1:other="));

        var directory = Path.GetDirectoryName(layout.PathOf("example.com/m", "v1.0.0", ".zip"))!;
        Assert.Equal(["v1.0.0.zip", "v1.0.0.ziphash"], Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Temporary_names_follow_the_go_command()
    {
        var target = Path.Combine(TestPaths.NewTempDir("modcache-temp"), "a", "v1.0.0.zip");
        var temp = ModCacheLayout.TempName(target);
        Assert.Matches(@"v1\.0\.0\.zip[0-9]+\.tmp$", temp);
        Assert.True(Directory.Exists(Path.GetDirectoryName(target)));
    }
}

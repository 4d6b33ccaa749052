using Warren.Storage;

namespace Warren.Storage.Tests;

public sealed class StoreLayoutTests
{
    [Fact]
    public void Artifact_keys_are_the_goproxy_layout_escaped()
    {
        Assert.Equal("github.com/!burnt!sushi/toml/@v/v1.2.0.zip", StoreLayout.ArtifactKey("github.com/BurntSushi/toml", "v1.2.0", ArtifactKind.Zip));
        Assert.Equal("golang.org/x/text/@v/v0.3.0.ziphash", StoreLayout.ArtifactKey("golang.org/x/text", "v0.3.0", ArtifactKind.ZipHash));
        Assert.Equal("golang.org/x/text/@v/", StoreLayout.VersionsPrefix("golang.org/x/text"));
        Assert.Equal("golang.org/x/text/@v/list", StoreLayout.ListKey("golang.org/x/text"));
        Assert.Equal("sumdb/sum.golang.org/", StoreLayout.SumDbPrefix("sum.golang.org"));
    }

    [Fact]
    public void Artifact_keys_parse_back()
    {
        Assert.True(StoreLayout.TryParseArtifactKey("github.com/!burnt!sushi/toml/@v/v1.2.0-!r!c1.mod", out var path, out var version, out var kind));
        Assert.Equal(("github.com/BurntSushi/toml", "v1.2.0-RC1", ArtifactKind.Mod), (path, version, kind));
        Assert.False(StoreLayout.TryParseArtifactKey("golang.org/x/text/@v/list", out _, out _, out _));
        Assert.False(StoreLayout.TryParseArtifactKey("sumdb/sum.golang.org/tile/8/0/000", out _, out _, out _));
    }

    [Fact]
    public void Versions_of_a_listing_are_canonical_and_sorted()
    {
        var keys = new[]
        {
            "m.example/a/@v/v1.10.0.zip", "m.example/a/@v/v1.2.0.info", "m.example/a/@v/v1.2.0.mod", "m.example/a/@v/list",
            "m.example/a/@v/v1.3.0.ziphash", "m.example/a/@v/v1.0.0-20200101000000-abcdefabcdef.info",
        };
        Assert.Equal(["v1.0.0-20200101000000-abcdefabcdef", "v1.2.0", "v1.10.0"], StoreLayout.VersionsOf(keys));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../b")]
    [InlineData("a/./b")]
    [InlineData("a//b")]
    [InlineData("a/b/")]
    [InlineData("a\\b")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    [InlineData(".warren/index.db")]
    [InlineData(".warren")]
    public void Keys_that_could_leave_the_store_are_invalid(string key)
    {
        Assert.False(StoreLayout.IsValidKey(key));
        Assert.Throws<ArgumentException>(() => StoreLayout.RequireValidKey(key));
    }

    [Theory]
    [InlineData("golang.org/x/text/@v/v0.3.0.zip")]
    [InlineData("sumdb/sum.golang.org/tile/8/0/x001/234.p/5")]
    [InlineData("sumdb/sum.golang.org/lookup/golang.org/x/text@v0.3.0")]
    [InlineData(".warrenish/ok")]
    public void Ordinary_keys_are_valid(string key) => Assert.True(StoreLayout.IsValidKey(key));
}

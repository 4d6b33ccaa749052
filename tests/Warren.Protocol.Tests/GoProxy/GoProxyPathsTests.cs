using Warren.Protocol.GoProxy;

namespace Warren.Protocol.Tests.GoProxy;

public sealed class GoProxyPathsTests
{
    [Theory]
    [InlineData("github.com/BurntSushi/toml", "v1.2.0", ".zip", "github.com/!burnt!sushi/toml/@v/v1.2.0.zip")]
    [InlineData("golang.org/x/text", "v0.3.0-20170915032832-14c0d48ead0c", ".info", "golang.org/x/text/@v/v0.3.0-20170915032832-14c0d48ead0c.info")]
    [InlineData("example.com/m", "v2.0.0-RC1", ".mod", "example.com/m/@v/v2.0.0-!r!c1.mod")]
    public void Version_files_are_escaped_like_the_go_command(string path, string version, string suffix, string expected)
    {
        Assert.Equal(expected, GoProxyPaths.VersionFile(path, version, suffix));
        Assert.True(GoProxyPaths.TryVersionFile(path, version, suffix, out var relative, out var error));
        Assert.Equal(expected, relative);
        Assert.Null(error);
    }

    [Fact]
    public void List_and_latest_escape_the_path()
    {
        Assert.Equal("github.com/!azure/go/@v/list", GoProxyPaths.List("github.com/Azure/go"));
        Assert.Equal("github.com/!azure/go/@latest", GoProxyPaths.Latest("github.com/Azure/go"));
    }

    [Theory]
    [InlineData("-bad/path", "v1.0.0", "invalid module path")]
    [InlineData("example.com/m", "v1.0.0!", "")]
    [InlineData("example.com/m", "", "")]
    public void What_cannot_be_escaped_is_an_error(string path, string version, string reason)
    {
        Assert.False(GoProxyPaths.TryVersionFile(path, version, ".info", out var relative, out var error));
        Assert.Null(relative);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => GoProxyPaths.VersionFile(path, version, ".info"));
    }
}

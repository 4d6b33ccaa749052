using System.Text;
using Warren.Core.Modules;

namespace Warren.Core.Tests;

/// <summary>modfetch.LegacyGoMod: "module " + modfile.AutoQuote(path) + "\n".</summary>
public sealed class GoModSynthesisTests
{
    [Theory]
    [InlineData("github.com/davecgh/go-spew", "module github.com/davecgh/go-spew\n")]
    [InlineData("gopkg.in/yaml.v2", "module gopkg.in/yaml.v2\n")]
    [InlineData("example.com/a b", "module \"example.com/a b\"\n")]
    [InlineData("example.com/x//y", "module \"example.com/x//y\"\n")]
    [InlineData("example.com/(x)", "module \"example.com/(x)\"\n")]
    [InlineData("", "module \"\"\n")]
    [InlineData("example.com/tab\there", "module \"example.com/tab\\there\"\n")]
    public void The_module_line_is_quoted_only_when_go_mod_syntax_needs_it(string path, string expected)
    {
        Assert.Equal(expected, Encoding.UTF8.GetString(GoModFile.Synthesize(path)));
    }

    [Fact]
    public void The_synthesized_file_parses_back_to_the_path()
    {
        foreach (var path in new[] { "github.com/davecgh/go-spew", "example.com/a b" })
        {
            Assert.Equal(path, GoModFile.ModulePath(GoModFile.Synthesize(path)));
        }
    }
}

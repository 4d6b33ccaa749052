using System.Text;
using Warren.Server.Ingest;

namespace Warren.Server.Tests;

/// <summary>The .mod rules of ingest: what the go command refuses in a dependency's go.mod, and nothing more.</summary>
public sealed class GoModCheckTests
{
    [Theory]
    [InlineData("module example.com/m\n")]
    [InlineData("module \"example.com/m\"\n")]
    [InlineData("module example.com/m\n\ngo 1.15\n\nretract v1.0.0 // broken\n")]

    // modfile.ParseLax ignores what only a main module may say, and directives it does not know.
    [InlineData("module example.com/m\nreplace example.com/x v1.0.0 => ../oops v0.0.0\nexclude example.com/x v1.1.0\n")]
    [InlineData("module example.com/m\nfrobnicate example.com/x\n")]
    public void A_mod_the_go_command_uses_is_accepted(string mod) =>
        Assert.Null(ModuleIngestor.CheckGoMod("example.com/m", Encoding.UTF8.GetBytes(mod)));

    [Theory]
    [InlineData("module example.com/other\n", "the .mod declares its path as example.com/other, not example.com/m")]
    [InlineData("module example.com/M\n", "the .mod declares its path as example.com/M, not example.com/m")]
    [InlineData("go 1.19\n", "the .mod has no module line")]
    [InlineData("", "the .mod has no module line")]
    [InlineData("module example.com/m\nrequire (\n", "the .mod does not parse: go.mod:")]
    [InlineData("module example.com/m\nrequire example.com/x\n", "the .mod does not parse: go.mod:2")]
    public void A_mod_the_go_command_refuses_is_refused_with_a_one_line_reason(string mod, string reason)
    {
        var problem = ModuleIngestor.CheckGoMod("example.com/m", Encoding.UTF8.GetBytes(mod));
        Assert.NotNull(problem);
        Assert.StartsWith(reason, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    /// <summary>Every .mod of the corpus (which the real go client downloaded and used) passes.</summary>
    [Fact]
    public void Every_corpus_mod_passes()
    {
        var checkedCount = 0;
        foreach (var entry in Manifest.All)
        {
            Assert.True(Core.Modules.ModulePath.TryEscapePath(entry.Path, out var path, out _));
            Assert.True(Core.Modules.ModulePath.TryEscapeVersion(entry.Version, out var version, out _));
            var mod = File.ReadAllBytes(Path.Combine(TestPaths.Corpus, path, "@v", version + ".mod"));
            Assert.Null(ModuleIngestor.CheckGoMod(entry.Path, mod));
            checkedCount++;
        }

        Assert.True(checkedCount > 200, $"only {checkedCount} corpus modules");
    }
}

using Warren.Core.Modules;

namespace Warren.Core.Tests;

public class GoImportsTests
{
    [Fact]
    public void Grouped_single_named_blank_dot_raw_and_comments()
    {
        const string Source = "\uFEFF// Copyright notice\n"
            + "//go:build linux\n\n"
            + "/* a block\n comment */ package  main // trailing\n\n"
            + "import \"fmt\"\n"
            + "import (\n"
            + "\t\"os\" // why\n"
            + "\tstr \"strings\"\n"
            + "\t_ \"embed\"\n"
            + "\t. `github.com/x/y/raw`\n"
            + "\t/* c */ \"github.com/a/b/\\u0063\"; \"net/http\"\n"
            + ")\n"
            + "import j \"encoding/json\"; import ()\n"
            + "import (\"a.example/one\"; \"a.example/two\")\n"
            + "\nfunc main() {}\n"
            + "import \"after/decl\"\n";

        var header = GoImports.Read(Source);

        Assert.Equal("main", header.Package);
        Assert.Equal(
            ["fmt", "os", "strings", "embed", "github.com/x/y/raw", "github.com/a/b/c", "net/http", "encoding/json", "a.example/one", "a.example/two"],
            header.Imports);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("// only a comment\n", null)]
    [InlineData("package\n", null)]
    [InlineData("func main() {}\n", null)]
    [InlineData("package p\n", "p")]
    [InlineData("package p; import \"x\"", "p")]
    public void Package_clause(string source, string? package)
    {
        Assert.Equal(package, GoImports.Read(source).Package);
    }

    [Fact]
    public void A_broken_header_keeps_what_was_read_before_it()
    {
        var header = GoImports.Read("package p\nimport \"ok\"\nimport (\n\t\"also\"\n\t\"unterminated\n)\n");

        Assert.Equal(["ok", "also"], header.Imports);
    }

    [Fact]
    public void Strings_inside_comments_and_after_the_header_are_not_imports()
    {
        var header = GoImports.Read("package p\n/*\nimport \"hidden\"\n*/\n// import \"hidden2\"\nvar s = `import \"no\"`\nimport \"late\"\n");

        Assert.Empty(header.Imports);
    }

    [Fact]
    public void Matches_the_go_command_on_the_standard_library()
    {
        // Every import path the go command lists for net/http (non-test files, build constraints applied) is found by
        // the reader, which reads every file without constraints.
        var dir = "/usr/lib/go-1.19/src/net/http";
        if (!Directory.Exists(dir))
        {
            return;
        }

        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir, "*.go").Where(f => !f.EndsWith("_test.go", StringComparison.Ordinal)))
        {
            var header = GoImports.Read(File.ReadAllText(file));
            Assert.NotNull(header.Package); // "http", or "main" for an ignored generator file
            if (header.Package == "http")
            {
                found.UnionWith(header.Imports);
            }
        }

        foreach (var expected in new[] { "bufio", "context", "crypto/tls", "net/http/internal", "net/textproto", "golang.org/x/net/http/httpguts" })
        {
            Assert.Contains(expected, found);
        }
    }
}

using System.Text;
using System.Text.Json;
using Warren.Core.Modules;

namespace Warren.Core.Tests;

public class GoModFileTests
{
    // ---- golden cases: modfile.Parse / ParseLax / ModulePath of Go 1.19 (agreeing with `go mod edit -json`) ----

    private static readonly Lazy<Dictionary<string, JsonElement>> GoldenCases = new(() =>
    {
        using JsonDocument doc = TestDataFiles.Json("gomod-cases.json");
        return doc.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("Name").GetString()!, e => e.Clone());
    });

    public static TheoryData<string> SyntaxCases() => CaseNames(stubSafe: true);

    public static TheoryData<string> VersionRuleCases() => CaseNames(stubSafe: false);

    private static TheoryData<string> CaseNames(bool stubSafe)
    {
        var data = new TheoryData<string>();
        foreach ((string name, JsonElement c) in GoldenCases.Value)
        {
            if (c.GetProperty("StubSafe").GetBoolean() == stubSafe)
            {
                data.Add(name);
            }
        }

        return data;
    }

    /// <summary>Cases whose outcome does not depend on the semver and module-path rules (valid versions, syntax errors).</summary>
    [Theory]
    [MemberData(nameof(SyntaxCases))]
    public void Golden_syntax_case(string name) => CheckGoldenCase(name);

    /// <summary>Cases whose outcome depends on SemVer.Canonical, ModulePath.SplitPathVersion and CheckPathMajor
    /// (invalid or non-canonical versions, major-version suffixes).</summary>
    [Theory]
    [MemberData(nameof(VersionRuleCases))]
    public void Golden_version_rule_case(string name) => CheckGoldenCase(name);

    [Fact]
    public void Golden_version_rule_cases_are_loaded_and_the_rules_they_rely_on_hold()
    {
        Assert.True(GoldenCases.Value.Values.Count(c => !c.GetProperty("StubSafe").GetBoolean()) > 10);
        Assert.Equal("v1.2.0", SemVer.Canonical("v1.2"));
        Assert.Equal("/v2", Modules.ModulePath.SplitPathVersion("example.com/m/v2").PathMajor);
        Assert.NotNull(Modules.ModulePath.CheckPathMajor("v2.0.0", ""));
    }

    [Fact]
    public void Golden_cases_are_loaded()
    {
        Assert.True(GoldenCases.Value.Count > 200);
        Assert.True(GoldenCases.Value.Values.Count(c => c.GetProperty("StubSafe").GetBoolean()) > 200);
    }

    private static void CheckGoldenCase(string name)
    {
        JsonElement c = GoldenCases.Value[name];
        string text = c.GetProperty("Text").GetString()!;
        Assert.Equal(Describe(c.GetProperty("Strict")), Describe(() => GoModFile.Parse("go.mod", text)));
        Assert.Equal(Describe(c.GetProperty("Lax")), Describe(() => GoModFile.ParseLax("go.mod", text)));
        string? wantPath = c.GetProperty("ModulePath").GetString();
        Assert.Equal(string.IsNullOrEmpty(wantPath) ? null : wantPath, GoModFile.ModulePath(text));

        // The byte overloads agree.
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        Assert.Equal(Describe(() => GoModFile.Parse("go.mod", text)), Describe(() => GoModFile.Parse("go.mod", bytes)));
        Assert.Equal(GoModFile.ModulePath(text), GoModFile.ModulePath(bytes));
    }

    // ---- the corpus: every go.mod of the real module corpus, against committed golden results ----

    [Fact]
    public void Corpus_go_mod_files_parse_like_go()
    {
        string root = Environment.GetEnvironmentVariable("WARREN_CORPUS_DIR") is { Length: > 0 } dir ? dir : "/tmp/corpus-out";
        Assert.True(Directory.Exists(root),
            $"corpus directory {root} is missing: build the module corpus first (or point WARREN_CORPUS_DIR at it)");

        using JsonDocument golden = TestDataFiles.Json("corpus-gomod-golden.json");
        var failures = new List<string>();
        int count = 0;
        foreach (JsonElement entry in golden.RootElement.EnumerateArray())
        {
            count++;
            string name = entry.GetProperty("Name").GetString()!;
            string file = Path.Combine(root, name);
            if (!File.Exists(file))
            {
                failures.Add($"{name}: missing from the corpus");
                continue;
            }

            byte[] data = File.ReadAllBytes(file);
            JsonElement strict = entry.GetProperty("Strict");
            JsonElement lax = entry.TryGetProperty("Lax", out JsonElement l) ? l : strict;
            string wantStrict = Describe(strict);
            string gotStrict = Describe(() => GoModFile.Parse(name, data));
            if (wantStrict != gotStrict)
            {
                failures.Add($"{name} (Parse):\nwant:\n{wantStrict}\ngot:\n{gotStrict}");
            }

            string wantLax = Describe(lax);
            string gotLax = Describe(() => GoModFile.ParseLax(name, data));
            if (wantLax != gotLax)
            {
                failures.Add($"{name} (ParseLax):\nwant:\n{wantLax}\ngot:\n{gotLax}");
            }

            string? wantPath = entry.GetProperty("ModulePath").GetString();
            string? gotPath = GoModFile.ModulePath(data);
            if ((string.IsNullOrEmpty(wantPath) ? null : wantPath) != gotPath)
            {
                failures.Add($"{name} (ModulePath): want {wantPath}, got {gotPath}");
            }
        }

        int onDisk = Directory.EnumerateFiles(root, "*.mod", SearchOption.AllDirectories)
            .Count(f => Path.GetFileName(Path.GetDirectoryName(f)) == "@v");
        Assert.True(count == onDisk, $"golden data covers {count} go.mod files but the corpus at {root} has {onDisk}");
        Assert.True(count >= 262, $"only {count} corpus go.mod files");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    // ---- behaviour, spelled out ----

    private const string Sample = """
        // Deprecated: use example.com/new instead.
        module example.com/old

        go 1.19

        require (
        	golang.org/x/text v0.3.7
        	rsc.io/quote v1.5.2 // indirect
        )

        require github.com/pkg/errors v0.9.1

        exclude golang.org/x/net v0.0.0-20190620200207-3b0461eec859

        replace golang.org/x/text => ../text

        replace (
        	rsc.io/quote v1.5.2 => example.com/fork/quote v1.5.3
        	rsc.io/sampler => /abs/sampler
        )

        // Published by accident.
        retract v1.0.0
        retract [v1.1.0, v1.2.0] // broken build
        toolchain go1.21.0
        """;

    [Fact]
    public void Parse_exposes_every_directive()
    {
        var f = GoModFile.ParseLax("go.mod", Sample);
        Assert.Equal("example.com/old", f.Module);
        Assert.Equal("use example.com/new instead.", f.ModuleDeprecated);
        Assert.Equal("1.19", f.Go);
        Assert.Equal(
            [
                new GoModRequire("golang.org/x/text", "v0.3.7", false),
                new GoModRequire("rsc.io/quote", "v1.5.2", true),
                new GoModRequire("github.com/pkg/errors", "v0.9.1", false),
            ],
            f.Requires);
        Assert.Equal(
            [new GoModRetract("v1.0.0", "v1.0.0", "Published by accident."), new GoModRetract("v1.1.0", "v1.2.0", "broken build")],
            f.Retracts);

        // Dependencies' exclude and replace directives do not apply, so ParseLax drops them (and unknown directives).
        Assert.Empty(f.Excludes);
        Assert.Empty(f.Replaces);
    }

    [Fact]
    public void Parse_is_strict_about_unknown_directives()
    {
        var e = Assert.Throws<GoModParseException>(() => GoModFile.Parse("go.mod", Sample));
        Assert.Equal("go.mod:25: unknown directive: toolchain", e.Message);
        Assert.Equal(25, e.Line);
        Assert.Equal(1, e.Column);

        var f = GoModFile.Parse("go.mod", Sample.Replace("toolchain go1.21.0", "", StringComparison.Ordinal));
        Assert.Equal([new GoModExclude("golang.org/x/net", "v0.0.0-20190620200207-3b0461eec859")], f.Excludes);
        Assert.Equal(
            [
                new GoModReplace("golang.org/x/text", null, "../text", null),
                new GoModReplace("rsc.io/quote", "v1.5.2", "example.com/fork/quote", "v1.5.3"),
                new GoModReplace("rsc.io/sampler", null, "/abs/sampler", null),
            ],
            f.Replaces);
        Assert.True(f.Replaces[0].IsDirectory);
        Assert.False(f.Replaces[1].IsDirectory);
    }

    [Fact]
    public void Errors_are_collected_per_line_with_positions()
    {
        const string text = "module m\nfoo\nrequire (\n\tx.example/y\n)\ngo 1\n";
        var e = Assert.Throws<GoModParseException>(() => GoModFile.Parse("dir/go.mod", text));
        Assert.Equal(
            [
                new GoModError("dir/go.mod", 2, 1, "unknown directive: foo"),
                new GoModError("dir/go.mod", 4, 2, "usage: require module/path v1.2.3"),
                new GoModError("dir/go.mod", 6, 1, "invalid go version '1': must match format 1.23"),
            ],
            e.Errors);
        Assert.Equal(
            "dir/go.mod:2: unknown directive: foo\ndir/go.mod:4:2: usage: require module/path v1.2.3\n"
            + "dir/go.mod:6: invalid go version '1': must match format 1.23",
            e.Message);
        Assert.IsAssignableFrom<FormatException>(e);
    }

    [Theory]
    [InlineData("module m\n/* c */\n", "go.mod:2: mod files must use // comments (not /* */ comments)")]
    [InlineData("module \"abc\n", "go.mod:1:12: unexpected newline in string")]
    [InlineData("module m\nrequire \"abc", "go.mod:2:9: unexpected EOF in string")]
    [InlineData("module m\x01\n", "go.mod:1:9: unexpected input character '\\x01'")]
    [InlineData("\ufeffmodule m\n", "go.mod:1: unexpected input character '\\ufeff'")]
    [InlineData("module 😀\u00a0\n", "go.mod:1:9: unexpected input character '\\u00a0'")]
    [InlineData("module m\nrequire (\n\tx.example/y v1.0.0\n", "go.mod:4: syntax error (unterminated block started at go.mod:2:1)")]
    [InlineData("module m\nrequire (\n) x\n", "go.mod:3:4: syntax error (expected newline after closing paren)")]
    [InlineData("module `m`\n", "go.mod:1: invalid quoted string: unquoted string cannot contain quote")]
    [InlineData("module \"m\\q\"\n", "go.mod:1: invalid quoted string: invalid syntax")]
    [InlineData("module a\nmodule b\n", "go.mod:2: repeated module statement")]
    [InlineData("module m\nretract [v1.0.0, v1.1.0)\n", "go.mod:2: expected ']' after version")]
    [InlineData("module m\nretract v1.0.0 v1.0.1\n", "go.mod:2: unexpected token after version: \"v1.0.1\"")]
    [InlineData("module m\nreplace a.example/x => other.example/x\n",
        "go.mod:2: replacement module without version must be directory path (rooted or starting with ./ or ../)")]
    [InlineData("module m\nreplace a.example/x => ./x v1.0.0\n", "go.mod:2: replacement module directory path \"./x\" cannot have version")]
    public void Parse_reports_errors_like_go(string text, string message)
    {
        var e = Assert.Throws<GoModParseException>(() => GoModFile.Parse("go.mod", text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void ParseLax_tolerates_what_only_the_main_module_needs()
    {
        const string text = """
            module m
            		surprise attack
            		x y (
            			z
            		)
            		exclude v1.2.3
            		replace <-!!!
            		retract v1.2.3 v1.2.4
            		retract (v1.2.3, v1.2.4]
            		retract v1.2.3 (
            			key1 value1
            			key2 value2
            		)
            		require good v1.0.0
            go 1.21.0
            """;
        var f = GoModFile.ParseLax("go.mod", text);
        Assert.Equal("m", f.Module);
        Assert.Equal("1.21", f.Go);
        Assert.Equal([new GoModRequire("good", "v1.0.0", false)], f.Requires);
        Assert.Equal([new GoModRetract("v1.2.3", "v1.2.3", "")], f.Retracts);
        Assert.Throws<GoModParseException>(() => GoModFile.Parse("go.mod", text));
    }

    [Theory]
    [InlineData("// indirect", true)]
    [InlineData("//indirect", true)]
    [InlineData("// indirect; for tests", true)]
    [InlineData("// indirect;", false)]
    [InlineData("// indirectly", false)]
    [InlineData("// Indirect", false)]
    [InlineData("// not indirect", false)]
    public void Indirect_comment(string comment, bool indirect)
    {
        var f = GoModFile.Parse("go.mod", $"module m\nrequire (\n\tx.example/y v1.0.0 {comment}\n)\n");
        Assert.Equal(indirect, Assert.Single(f.Requires).Indirect);
    }

    [Theory]
    [InlineData("// Deprecated: a\n// b\n//\n// c\nmodule m\n", "a\nb")]
    [InlineData("// Intro.\n//\n// Deprecated: later\n// more\n//\n// tail\nmodule m\n", "later\nmore")]
    [InlineData("// some other comment\n// Deprecated: blah\nmodule m\n", null)]
    [InlineData("module m // Deprecated: suffix\n", "suffix")]
    [InlineData("// Deprecated: blah\nmodule (\n\tm\n)\n", "blah")]
    [InlineData("// Deprecated: gap\n\nmodule m\n", null)]
    [InlineData("// Deprecated: x\n//\nmodule m\n", "x\n")]
    [InlineData("// Deprecated:\nmodule m\n", null)]
    public void Module_deprecation(string text, string? deprecated)
    {
        Assert.Equal(deprecated, GoModFile.Parse("go.mod", text).ModuleDeprecated);
    }

    [Fact]
    public void Quoted_strings_follow_go_literal_rules()
    {
        var f = GoModFile.Parse("go.mod", "module \"example.com/\\x41\\u00e9\\101\\t\"\nrequire \"a.example/b\" \"v1.0.0\"\n");
        Assert.Equal("example.com/AéA\t", f.Module);
        Assert.Equal([new GoModRequire("a.example/b", "v1.0.0", false)], f.Requires);
    }

    [Fact]
    public void Crlf_and_unicode_positions()
    {
        var f = GoModFile.Parse("go.mod", "module example.com/crlf\r\n\r\nrequire (\r\n\ta.example/b v1.0.0 // indirect\r\n)\r\n");
        Assert.True(Assert.Single(f.Requires).Indirect);

        // Columns count runes, not UTF-16 code units.
        var e = Assert.Throws<GoModParseException>(() => GoModFile.Parse("go.mod", "module 😀😀\x01\n"));
        Assert.Equal(10, e.Column);
    }

    [Theory]
    [InlineData("module \"github.com/rsc/vgotest\"", "github.com/rsc/vgotest")]
    [InlineData("module  `github.com/rsc/vgotest`", "github.com/rsc/vgotest")]
    [InlineData("module gopkg.in/check.v1\r\n", "gopkg.in/check.v1")]
    [InlineData("module \"gopkg.in/check.v1\n\"", null)]
    [InlineData("module \ngopkg.in/check.v1\n\n", null)]
    [InlineData("module \"gopkg.in/check.v1\"asd", null)]
    [InlineData("module  \nmodule a/b/c ", "a/b/c")]
    [InlineData("module \"   \"", "   ")]
    [InlineData("modulex a/b\nmodule real/one\n", "real/one")]
    [InlineData("module \"github.com/rsc/vgotest1\" // with a comment", "github.com/rsc/vgotest1")]
    [InlineData("garbage ( [ \"\nmodule still/found\n/* whatever", "still/found")]
    [InlineData("", null)]
    public void ModulePath_without_full_parse(string text, string? path)
    {
        Assert.Equal(path, GoModFile.ModulePath(text));
    }

    [Theory]
    [InlineData("./x", true)]
    [InlineData("../x", true)]
    [InlineData("/abs", true)]
    [InlineData(".\\x", true)]
    [InlineData("..\\x", true)]
    [InlineData("\\share", true)]
    [InlineData("C:\\x", true)]
    [InlineData("c:", true)]
    [InlineData("example.com/x", false)]
    [InlineData(".x", false)]
    [InlineData("1:", false)]
    public void IsDirectoryPath(string path, bool expected)
    {
        Assert.Equal(expected, GoModFile.IsDirectoryPath(path));
    }

    // ---- helpers: a plain-text rendering shared by golden JSON and parsed files ----

    private static string Describe(Func<GoModFile> parse)
    {
        try
        {
            return Describe(parse());
        }
        catch (GoModParseException e)
        {
            return "error: " + e.Message;
        }
    }

    private static string Describe(GoModFile f)
    {
        var sb = new StringBuilder();
        sb.Append("module ").Append(f.Module ?? "<none>").Append('\n');
        if (f.ModuleDeprecated is not null)
        {
            sb.Append("deprecated ").Append(f.ModuleDeprecated).Append('\n');
        }

        if (f.Go is not null)
        {
            sb.Append("go ").Append(f.Go).Append('\n');
        }

        foreach (GoModRequire r in f.Requires)
        {
            sb.Append("require ").Append(r.Path).Append(' ').Append(r.Version).Append(r.Indirect ? " indirect" : "").Append('\n');
        }

        foreach (GoModExclude x in f.Excludes)
        {
            sb.Append("exclude ").Append(x.Path).Append(' ').Append(x.Version).Append('\n');
        }

        foreach (GoModReplace r in f.Replaces)
        {
            sb.Append("replace ").Append(r.OldPath).Append(' ').Append(r.OldVersion ?? "-").Append(" => ")
                .Append(r.NewPath).Append(' ').Append(r.NewVersion ?? "-").Append('\n');
        }

        foreach (GoModRetract r in f.Retracts)
        {
            sb.Append("retract [").Append(r.Low).Append(", ").Append(r.High).Append("] ").Append(r.Rationale).Append('\n');
        }

        return sb.ToString();
    }

    private static string Describe(JsonElement golden)
    {
        if (golden.TryGetProperty("Error", out JsonElement error))
        {
            return "error: " + error.GetString();
        }

        var sb = new StringBuilder();
        sb.Append("module ").Append(golden.TryGetProperty("Module", out JsonElement m) ? m.GetString() : "<none>").Append('\n');
        if (Str(golden, "Deprecated") is { Length: > 0 } dep)
        {
            sb.Append("deprecated ").Append(dep).Append('\n');
        }

        if (Str(golden, "Go") is { } go)
        {
            sb.Append("go ").Append(go).Append('\n');
        }

        foreach (JsonElement r in Items(golden, "Require"))
        {
            bool indirect = r.TryGetProperty("Indirect", out JsonElement ind) && ind.GetBoolean();
            sb.Append("require ").Append(Str(r, "Path")).Append(' ').Append(Str(r, "Version")).Append(indirect ? " indirect" : "").Append('\n');
        }

        foreach (JsonElement x in Items(golden, "Exclude"))
        {
            sb.Append("exclude ").Append(Str(x, "Path")).Append(' ').Append(Str(x, "Version")).Append('\n');
        }

        foreach (JsonElement r in Items(golden, "Replace"))
        {
            JsonElement o = r.GetProperty("Old");
            JsonElement n = r.GetProperty("New");
            sb.Append("replace ").Append(Str(o, "Path")).Append(' ').Append(Str(o, "Version") ?? "-").Append(" => ")
                .Append(Str(n, "Path")).Append(' ').Append(Str(n, "Version") ?? "-").Append('\n');
        }

        foreach (JsonElement r in Items(golden, "Retract"))
        {
            sb.Append("retract [").Append(Str(r, "Low")).Append(", ").Append(Str(r, "High")).Append("] ")
                .Append(Str(r, "Rationale") ?? "").Append('\n');
        }

        return sb.ToString();
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement v) ? v.GetString() : null;

    private static IEnumerable<JsonElement> Items(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];
}

using System.IO.Compression;
using System.Text;
using Warren.Core.Modules;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>Warren is never stricter than the go command. Modules the go command's own test proxy serves (described in
/// cmd/go/testdata/mod: example.com_retract_*, example.com_split-incompatible_*, example.com_printversion_v1.0.0) are
/// rebuilt here as a GOPROXY tree: .mod files that add retractions to zips without go.mod, .mod files that differ
/// from the zip's go.mod, +incompatible versions, and a v2.0.0 query of a v0/v1 path answered with
/// v2.0.0+incompatible. The real go client gets the same answers through Warren (with a checksum database vouching
/// for every version, and with none) as straight from the tree.</summary>
public sealed class FidelityEndToEndTests
{
    /// <summary>What one go command did: exit code, stdout, its stderr but the "go: downloading" lines (which depend on
    /// what was cached), and the main module's go.mod and go.sum afterwards.</summary>
    private sealed record Step(string Command, int ExitCode, string Stdout, string Diagnostics, string GoMod, string GoSum, string Stderr)
    {
        public string Comparable => $"{Command}\nexit {ExitCode}\n--stdout\n{Stdout}--stderr\n{Diagnostics}--go.mod\n{GoMod}--go.sum\n{GoSum}";
    }

    [Fact]
    public async Task The_go_command_gets_the_same_answers_through_Warren_as_from_the_tree_with_and_without_a_checksum_database()
    {
        var tree = FidelityTree.Build(TestPaths.NewTempDir("fidelity-tree"));
        await using var db = await TestSumDb.StartAsync();
        db.AddFiller(5);
        foreach (var v in tree.Versions)
        {
            db.Add(v.Path, v.Version, v.ZipHash, v.ModHash);
        }

        var goSumDb = db.VerifierKey + " " + db.Url.TrimEnd('/');

        // The reference: the go command straight from the tree, verifying against the test database.
        var reference = await RunScenarioAsync(new Uri(tree.Root).AbsoluteUri, goSumDb);
        AssertExpectedBehaviour(reference);

        await using var upstream = await FakeUpstream.StartAsync(tree.Root);

        // Through Warren, which verifies every version against the same database before storing it.
        await using (var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.SumDb = goSumDb))
        {
            var through = await RunScenarioAsync(warren.Url, goSumDb);
            AssertSame(reference, through);
            Assert.Contains(db.Requests, r => r.StartsWith("/lookup/example.com/retract@v1.1.0", StringComparison.Ordinal));
            var metrics = warren.Metrics.Render();
            Assert.Contains("warren_mod_differs_from_zip_total 0\n", metrics);
            Assert.DoesNotContain("warren_ingest_rejected_total{", metrics);
            Assert.Contains("{\"Version\":\"v2.0.0+incompatible\"", await File.ReadAllTextAsync(
                Path.Combine(warren.Root, "example.com", "retract", "incompatible", "@v", "v2.0.0+incompatible.info")));
        }

        // Through Warren with no checksum database at all (skip): the same, with the differing .mod files counted.
        await using (var warren = await WarrenInstance.StartAsync(upstream.Url))
        {
            var through = await RunScenarioAsync(warren.Url, "off");
            AssertSame(reference, through);
            var metrics = warren.Metrics.Render();
            Assert.Matches(@"warren_mod_differs_from_zip_total [1-9][0-9]*\n", metrics);
            Assert.DoesNotContain("warren_ingest_rejected_total{", metrics);
        }
    }

    private static void AssertSame(IReadOnlyList<Step> reference, IReadOnlyList<Step> through)
    {
        Assert.Equal(reference.Count, through.Count);
        for (var i = 0; i < reference.Count; i++)
        {
            Assert.True(reference[i].Comparable == through[i].Comparable,
                $"through Warren:\n{through[i].Comparable}\nstderr:\n{through[i].Stderr}\n\nfrom the tree:\n{reference[i].Comparable}");
        }
    }

    /// <summary>What the go command's own script tests (mod_retract*.txt, mod_retract_incompatible.txt,
    /// mod_import_issue41113.txt) expect of these modules.</summary>
    private static void AssertExpectedBehaviour(IReadOnlyList<Step> steps)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            Assert.True((steps[i].ExitCode == 0) == (i != 5), $"{steps[i].Command}: exit {steps[i].ExitCode}\n{steps[i].Stdout}\n{steps[i].Stderr}");
        }

        Assert.Equal("example.com/retract v1.0.0-bad v1.0.0-good v1.1.0\n", steps[0].Stdout);
        Assert.Equal("example.com/retract v1.0.0-good v1.1.0\n", steps[1].Stdout);
        Assert.Equal("example.com/retract v1.0.0-bad [bad]\n", steps[2].Stdout);
        Assert.Contains("go: warning: example.com/retract@v1.0.0-bad: retracted by module author: bad", steps[3].Diagnostics);
        Assert.Contains("require example.com/retract v1.0.0-bad", steps[3].GoMod);

        // The fixture is the module the go command's own tests use: script/mod_retract.txt records these sums.
        Assert.Contains("example.com/retract v1.0.0-bad h1:liAW69rbtjY67x2CcNzat668L/w+YGgNX3lhJsWIJis=\n", steps[3].GoSum);
        Assert.Contains("example.com/retract v1.0.0-bad/go.mod h1:0DvGGofJ9hr1q63cBrOY/jSY52OwhRGA0K47NE80I5Y=\n", steps[3].GoSum);
        Assert.Equal("example.com/retract/incompatible v2.0.0+incompatible\n", steps[4].Stdout);
        // A query may not select a retracted version; the version itself may be asked for, with a warning.
        Assert.Contains("go: example.com/retract/incompatible@v2.0.0: example.com/retract/incompatible@v2.0.0+incompatible: retracted by module author", steps[5].Diagnostics);
        Assert.Contains("go: warning: example.com/retract/incompatible@v2.0.0+incompatible: retracted by module author", steps[6].Diagnostics);
        Assert.Contains("require example.com/retract/incompatible v2.0.0+incompatible", steps[6].GoMod);
        Assert.Equal("example.com/split-incompatible v2.0.0+incompatible\n", steps[7].Stdout);
        Assert.Contains("require example.com/split-incompatible v2.0.0+incompatible", steps[8].GoMod);
        Assert.Contains("example.com/split-incompatible/subpkg v0.1.0\n", steps[9].Stdout);
        Assert.DoesNotContain("example.com/split-incompatible v", steps[9].Stdout);
        Assert.Contains("example.com/split-incompatible/subpkg v0.1.0/go.mod h1:", steps[9].GoSum);
        Assert.Contains("example.com/printversion v1.0.0 h1:", steps[10].Stdout);
        Assert.Contains("example.com/split-incompatible/subpkg v0.1.0/go.mod h1:", steps[10].Stdout);
    }

    private static async Task<List<Step>> RunScenarioAsync(string proxy, string goSumDb)
    {
        var go = new GoRunner(proxy).With("GOSUMDB", goSumDb).With("GONOSUMDB", "").With("GOPRIVATE", "");
        var steps = new List<Step>();
        var use = NewModule("module example.com/use\n\ngo 1.19\n");

        // Retractions live in a .mod that adds them to a zip without go.mod (example.com_retract_v1.1.0.txt).
        steps.Add(await RunAsync(go, use, "list", "-m", "-retracted", "-versions", "example.com/retract"));
        steps.Add(await RunAsync(go, use, "list", "-m", "-versions", "example.com/retract"));
        steps.Add(await RunAsync(go, use, "list", "-m", "-retracted", "-f", "{{.Path}} {{.Version}} {{.Retracted}}", "example.com/retract@v1.0.0-bad"));
        steps.Add(await RunAsync(go, use, "get", "example.com/retract@v1.0.0-bad"));

        // v2.0.0 of a v0/v1 path is a query that the proxy answers with v2.0.0+incompatible, retracted by v1.0.0.
        var incompatible = NewModule("module example.com/use\n\ngo 1.19\n");
        steps.Add(await RunAsync(go, incompatible, "list", "-m", "example.com/retract/incompatible@v2.0.0"));
        steps.Add(await RunAsync(go, incompatible, "get", "example.com/retract/incompatible@v2.0.0"));
        steps.Add(await RunAsync(go, incompatible, "get", "example.com/retract/incompatible@v2.0.0+incompatible"));

        // The same query of a version nothing retracts.
        var query = NewModule("module example.com/use\n\ngo 1.19\n");
        steps.Add(await RunAsync(go, query, "list", "-m", "example.com/split-incompatible@v2.0.0"));
        steps.Add(await RunAsync(go, query, "get", "example.com/split-incompatible@v2.0.0"));

        // golang.org/issue/41113: a package moved from a +incompatible root module into a nested module.
        var split = NewModule("module golang.org/issue/41113\n\ngo 1.16\n\nrequire example.com/split-incompatible v2.1.0-pre+incompatible\n");
        await File.WriteAllTextAsync(Path.Combine(split, "x.go"), "package issue41113\n\nimport _ \"example.com/split-incompatible/subpkg\"\n");
        var tidy = await RunAsync(go, split, "mod", "tidy");
        Assert.True(tidy.ExitCode == 0, $"go mod tidy via {proxy}\n{tidy.Stderr}");
        steps.Add(await RunAsync(go, split, "list", "-m", "all"));

        // .mod files that differ from the go.mod in their zips.
        var download = await RunAsync(go, NewModule("module example.com/dl\n\ngo 1.19\n"), "mod", "download", "-json",
            "example.com/printversion@v1.0.0", "example.com/split-incompatible/subpkg@v0.1.0");
        steps.Add(download with { Stdout = string.Concat(GoRunner.JsonStream(download.Stdout).Select(o =>
            $"{o.GetProperty("Path").GetString()} {o.GetProperty("Version").GetString()} {o.GetProperty("Sum").GetString()}\n" +
            $"{o.GetProperty("Path").GetString()} {o.GetProperty("Version").GetString()}/go.mod {o.GetProperty("GoModSum").GetString()}\n")) });
        return steps;
    }

    private static string NewModule(string goMod)
    {
        var dir = TestPaths.NewTempDir("fidelity-use");
        File.WriteAllText(Path.Combine(dir, "go.mod"), goMod);
        return dir;
    }

    private static async Task<Step> RunAsync(GoRunner go, string dir, params string[] args)
    {
        var result = await go.RunAsync(dir, args);
        var diagnostics = string.Concat(result.Stderr.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("go: downloading ", StringComparison.Ordinal)).Select(l => l + "\n"));
        var goSum = Path.Combine(dir, "go.sum");
        return new Step("go " + string.Join(' ', args), result.ExitCode, result.Stdout, diagnostics, await File.ReadAllTextAsync(Path.Combine(dir, "go.mod")),
            File.Exists(goSum) ? await File.ReadAllTextAsync(goSum) : "", result.Stderr);
    }
}

/// <summary>A file-system GOPROXY tree of modules written from the descriptions in cmd/go/testdata/mod.</summary>
internal sealed class FidelityTree
{
    private readonly Dictionary<string, List<string>> _lists = new(StringComparer.Ordinal);

    private FidelityTree(string root)
    {
        Root = root;
    }

    public string Root { get; }

    public List<(string Path, string Version, string ZipHash, string ModHash)> Versions { get; } = [];

    public static FidelityTree Build(string root)
    {
        var tree = new FidelityTree(root);

        // example.com_retract_*: zips without go.mod; the .mod of v1.1.0 retracts v1.0.0-bad.
        const string retract = "example.com/retract";
        tree.Add(retract, "v1.0.0-bad", "module example.com/retract\n\ngo 1.15\n\n", ("retract.go", "package retract\n"));
        tree.Add(retract, "v1.0.0-good", "module example.com/retract\n\ngo 1.15\n\n", ("retract.go", "package retract\n"));
        tree.Add(retract, "v1.1.0", "module example.com/retract\n\ngo 1.15\n\nretract v1.0.0-bad // bad\nretract v1.0.0-unused // bad\n\n",
            ("retract.go", "package retract\n"));

        // example.com_retract_incompatible_*: v1.0.0 retracts v2.0.0+incompatible, whose zip has no go.mod.
        const string incompatible = "example.com/retract/incompatible";
        const string incompatibleMod = "module example.com/retract/incompatible\n\ngo 1.16\n\nretract v2.0.0+incompatible\n";
        tree.Add(incompatible, "v1.0.0", incompatibleMod, ("go.mod", incompatibleMod), ("incompatible.go", "package incompatible\n"));
        tree.Add(incompatible, "v2.0.0+incompatible", "module example.com/retract/incompatible\n", ("incompatible.go", "package incompatible\n"));

        // What a proxy answers to the query v2.0.0 (not a valid version of this path), as proxy.golang.org does.
        tree.AddQuery(incompatible, "v2.0.0", "v2.0.0+incompatible");

        // example.com_split-incompatible_*: subpkg moved out of a +incompatible root into a nested module whose .mod
        // is not the go.mod in its zip.
        const string split = "example.com/split-incompatible";
        tree.Add(split, "v2.0.0+incompatible", "module example.com/split-incompatible\n", ("subpkg/subpkg.go", "package subpkg\n"));
        tree.Add(split, "v2.1.0-pre+incompatible", "module example.com/split-incompatible\n",
            ("README.txt", "subpkg has moved to module example.com/split-incompatible/subpkg\n"));
        tree.AddQuery(split, "v2.0.0", "v2.0.0+incompatible");
        tree.Add(split + "/subpkg", "v0.1.0", "module example.com/split-incompatible/subpkg\n",
            ("go.mod", "module example.com/split-incompatible/subpkg\n\ngo 1.16\n"), ("subpkg.go", "package subpkg\n"));

        // example.com_printversion_v1.0.0: the .mod excludes another version than the go.mod in the zip.
        tree.Add("example.com/printversion", "v1.0.0",
            "module example.com/printversion\n\nrequire example.com/version v1.0.0\nreplace example.com/version v1.0.0 => ../oops v0.0.0\nexclude example.com/version v1.1.0\n",
            ("go.mod", "module example.com/printversion\n\nrequire example.com/version v1.0.0\nreplace example.com/version v1.0.0 => ../oops v0.0.0\nexclude example.com/version v1.0.1\n"),
            ("printversion.go", "package main\n\nimport _ \"example.com/version\"\n\nfunc main() {}\n"));

        foreach (var (path, versions) in tree._lists)
        {
            File.WriteAllText(Path.Combine(tree.Dir(path), "list"), string.Concat(versions.Select(v => v + "\n")));
        }

        return tree;
    }

    private string Dir(string modulePath)
    {
        Assert.True(ModulePath.TryEscapePath(modulePath, out var escaped, out _));
        var dir = Path.Combine(Root, escaped, "@v");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Escape(string version)
    {
        Assert.True(ModulePath.TryEscapeVersion(version, out var escaped, out _));
        return escaped;
    }

    private void Add(string path, string version, string mod, params (string Name, string Content)[] files)
    {
        var dir = Dir(path);
        var file = Path.Combine(dir, Escape(version));
        File.WriteAllText(file + ".mod", mod);
        File.WriteAllText(file + ".info", $"{{\"Version\":\"{version}\",\"Time\":\"2020-04-01T00:00:00Z\"}}");
        using (var archive = ZipFile.Open(file + ".zip", ZipArchiveMode.Create))
        {
            foreach (var (name, content) in files)
            {
                var entry = archive.CreateEntry($"{path}@{version}/{name}", CompressionLevel.Optimal);
                using var stream = entry.Open();
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
        }

        if (!_lists.TryGetValue(path, out var list))
        {
            _lists[path] = list = [];
        }

        list.Add(version);
        Versions.Add((path, version, DirHash.HashZip(file + ".zip"), DirHash.HashGoMod(Encoding.UTF8.GetBytes(mod))));
    }

    private void AddQuery(string path, string query, string version) =>
        File.WriteAllText(Path.Combine(Dir(path), Escape(query) + ".info"), $"{{\"Version\":\"{version}\",\"Time\":\"2020-04-01T00:00:00Z\"}}");
}

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>A repository made by the tests, the modules it holds and the queries asked of it (module@query; "{label12}"
/// and "{label40}" stand for the 12- and 40-digit hash of a labelled commit).</summary>
internal sealed record CraftedRepo(string Name, string Root, string BareDir, string[] Modules, string[] Queries, IReadOnlyDictionary<string, string> Commits)
{
    public IEnumerable<(string Module, string Query)> ResolvedQueries()
    {
        foreach (var q in Queries)
        {
            int at = q.IndexOf('@', StringComparison.Ordinal);
            string module = q[..at];
            string query = q[(at + 1)..];
            foreach (var (label, hash) in Commits)
            {
                query = query.Replace("{" + label + "12}", hash[..12], StringComparison.Ordinal)
                    .Replace("{" + label + "40}", hash, StringComparison.Ordinal);
            }

            yield return (module, query);
        }
    }
}

/// <summary>One repository per rule of the go command's direct mode.</summary>
internal static class CraftedRepos
{
    public const string Owner = "github.com/warren-test";

    private const string License = "Copyright (c) Warren test authors.\nPermission is granted.\n";

    public static List<CraftedRepo> BuildAll(string reposDir, string workRoot)
    {
        var list = new List<CraftedRepo>
        {
            Nested(reposDir, workRoot),
            Major(reposDir, workRoot),
            MajorBranch(reposDir, workRoot),
            Incompatible(reposDir, workRoot),
            IncompatibleLater(reposDir, workRoot),
            Vendor(reposDir, workRoot),
            Special(reposDir, workRoot),
            CaseFold(reposDir, workRoot),
            Retract(reposDir, workRoot),
            Prerelease(reposDir, workRoot),
            Tags(reposDir, workRoot),
            Many(reposDir, workRoot),
            NoTags(reposDir, workRoot),
            Empty(reposDir, workRoot),
        };
        return list;
    }

    private static CraftedRepo Make(string name, string reposDir, string workRoot, Action<RepoBuilder> build, string[] modules, string[] queries)
    {
        var b = new RepoBuilder(Path.Combine(workRoot, name));
        build(b);
        string root = Owner + "/" + name;
        string bare = b.CloneBare(Path.Combine(reposDir, root + ".git"));
        return new CraftedRepo(name, root, bare, modules.Select(m => m.Length == 0 ? root : root + "/" + m).ToArray(),
            queries.Select(q => q.StartsWith('@') ? root + q : root + "/" + q).ToArray(), b.Commits);
    }

    /// <summary>Root module plus a nested module in sub/ with prefixed tags; LICENSE only at the root.</summary>
    private static CraftedRepo Nested(string reposDir, string workRoot) => Make("nested", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/nested").Write("a.go", "package nested\n").Write("LICENSE", License)
            .GoMod("sub", Owner + "/nested/sub").Write("sub/b.go", "package sub\n").Write("sub/deeper/c.go", "package deeper\n");
        b.Commit("first", "2021-01-01T10:00:00Z");
        b.Tag("v1.0.0").Tag("sub/v1.0.0");
        b.Write("sub/b.go", "package sub\n\n// v1.1.0\n");
        b.Commit("sub 1.1.0", "2021-02-01T10:00:00Z");
        b.Tag("sub/v1.1.0", annotated: true);
        b.Write("a.go", "package nested\n\n// later\n");
        b.Commit("untagged", "2021-03-01T10:00:00Z", "tip");
    },
    ["", "sub"],
    ["@v1.0.0", "@latest", "@main", "@{tip12}", "sub@v1.0.0", "sub@v1.1.0", "sub@latest", "sub@main", "sub@{tip40}", "sub@v1.2.0",
     "sub@v1.1.1-0.20210301100000-{tip12}", "sub@v1.0.1-0.20210301100000-{tip12}", "sub@v1.5.1-0.20210301100000-{tip12}",
     "sub@v1.1.1-0.20210301100001-{tip12}", "@v1.0.1-0.20210301100000-{tip12}"]);

    /// <summary>A /v2 module in the v2/ subdirectory beside a v1 module at the root.</summary>
    private static CraftedRepo Major(string reposDir, string workRoot) => Make("major", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/major").Write("m.go", "package major\n").Write("LICENSE", License)
            .GoMod("v2", Owner + "/major/v2").Write("v2/m.go", "package major\n\n// v2\n");
        b.Commit("v1 and v2", "2021-04-01T00:00:00Z");
        b.Tag("v1.0.0").Tag("v2.0.0");
        b.Write("v2/m.go", "package major\n\n// v2 later\n");
        b.Commit("v2 later", "2021-04-15T00:00:00Z", "tip");
    },
    ["", "v2"],
    ["@v1.0.0", "@latest", "@v2.0.0", "@main", "v2@v2.0.0", "v2@latest", "v2@main", "v2@{tip12}"]);

    /// <summary>A v2 module at the root (major branch): go.mod says /v2 from v2.0.0 on.</summary>
    private static CraftedRepo MajorBranch(string reposDir, string workRoot) => Make("majorbranch", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/majorbranch").Write("x.go", "package x\n").Write("LICENSE", License);
        b.Commit("v1", "2021-05-01T00:00:00Z");
        b.Tag("v1.0.0");
        b.GoMod("", Owner + "/majorbranch/v2").Write("x.go", "package x\n\n// v2\n");
        b.Commit("v2", "2021-06-01T00:00:00Z");
        b.Tag("v2.0.0", annotated: true);
        b.Write("y.go", "package x\n");
        b.Commit("v2.1", "2021-07-01T00:00:00Z");
        b.Tag("v2.1.0");
        b.Write("y.go", "package x\n\n// later\n");
        b.Commit("later", "2021-08-01T00:00:00Z", "tip");
    },
    ["", "v2"],
    ["@v1.0.0", "@latest", "@v2.0.0", "@main", "v2@v2.0.0", "v2@v2.1.0", "v2@latest", "v2@main", "v2@{tip12}", "v2@v1.0.0", "v2@v2.0.0+incompatible", "@v2.1.0+incompatible"]);

    /// <summary>No go.mod at all: v2+ tags are +incompatible, go.mod is synthesized.</summary>
    private static CraftedRepo Incompatible(string reposDir, string workRoot) => Make("incompat", reposDir, workRoot, b =>
    {
        b.Write("a.go", "package incompat\n").Write("LICENSE", License);
        b.Commit("one", "2019-01-01T00:00:00Z");
        b.Tag("v1.0.0");
        b.Write("a.go", "package incompat\n\n// two\n");
        b.Commit("two", "2019-02-01T00:00:00Z");
        b.Tag("v2.0.0");
        b.Write("a.go", "package incompat\n\n// three\n");
        b.Commit("three", "2019-03-01T00:00:00Z");
        b.Tag("v3.1.0", annotated: true);
        b.Write("b.go", "package incompat\n");
        b.Commit("later", "2019-04-01T00:00:00Z", "tip");
    },
    [""],
    ["@v1.0.0", "@v2.0.0", "@v2.0.0+incompatible", "@v3.1.0+incompatible", "@latest", "@main", "@{tip40}"]);

    /// <summary>+incompatible versions and go.mod files that appear later: a go.mod in v2.1.0 hides all v2 tags, v3/go.mod
    /// in v3.0.0 makes v3.0.0 a version of the /v3 module unless +incompatible is asked for.</summary>
    private static CraftedRepo IncompatibleLater(string reposDir, string workRoot) => Make("incompat2", reposDir, workRoot, b =>
    {
        b.Write("a.go", "package incompat2\n");
        b.Commit("one", "2019-05-01T00:00:00Z");
        b.Tag("v1.0.0");
        b.Write("a.go", "package incompat2\n\n// two\n");
        b.Commit("two", "2019-06-01T00:00:00Z");
        b.Tag("v2.0.0");
        b.GoMod("", Owner + "/incompat2");
        b.Commit("go.mod appears", "2019-07-01T00:00:00Z");
        b.Tag("v2.1.0");
        b.Remove("go.mod");
        b.GoMod("v3", Owner + "/incompat2/v3").Write("v3/a.go", "package incompat2\n");
        b.Commit("v3 subdirectory module", "2019-08-01T00:00:00Z");
        b.Tag("v3.0.0");
    },
    ["", "v3"],
    ["@v1.0.0", "@v2.0.0", "@v2.1.0", "@v3.0.0", "@v3.0.0+incompatible", "@latest", "v3@v3.0.0", "v3@latest"]);

    /// <summary>Vendor directories at several depths, nested modules (also GO.MOD), .hg_archival.txt.</summary>
    private static CraftedRepo Vendor(string reposDir, string workRoot) => Make("vendor", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/vendor").Write("main.go", "package main\n")
            .Write("vendor/modules.txt", "# example.com/x v1.0.0\n")
            .Write("vendor/a.go", "package vendor\n")
            .Write("vendor/github.com/x/y/y.go", "package y\n")
            .Write("x/vendor/y/z.go", "package y\n")
            .Write("x/vendor/w.go", "package vendor\n")
            .Write("x/vendorish/ok.go", "package vendorish\n")
            .Write("abcdefgh/vendor/k.go", "package vendor\n")
            .Write("sub/vendor/modules.txt", "# nested\n")
            .GoMod("inner", Owner + "/vendor/inner").Write("inner/i.go", "package inner\n")
            .Write("inner2/GO.MOD", "module other\n").Write("inner2/j.go", "package inner2\n")
            .Write(".hg_archival.txt", "repo: 0\n")
            .Write("deep/a/b/c.go", "package b\n");
        b.Commit("vendored", "2020-03-01T00:00:00Z");
        b.Tag("v1.0.0");
    },
    [""],
    ["@v1.0.0", "@latest"]);

    /// <summary>Symbolic links (file and directory), a submodule, and .gitattributes export rules and eol conversion.</summary>
    private static CraftedRepo Special(string reposDir, string workRoot) => Make("special", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/special").Write("a.go", "package special\n")
            .Symlink("link.go", "a.go")
            .Write("x/f.go", "package x\n")
            .Symlink("linkdir", "x")
            .Write(".gitattributes", "ignored.txt export-ignore\nsubst.txt export-subst\neol.txt text eol=crlf\n")
            .Write("ignored.txt", "export-ignore is not applied by the go command\n")
            .Write("subst.txt", "commit $Format:%H$\n")
            .Write("eol.txt", "line one\nline two\n");
        b.Gitlink("submod", "0123456789abcdef0123456789abcdef01234567");
        b.Commit("special files", "2020-04-01T00:00:00Z");
        b.Tag("v1.0.0");
    },
    [""],
    ["@v1.0.0", "@latest"]);

    /// <summary>Files differing only in case, then an invalid file name, then a clean tree.</summary>
    private static CraftedRepo CaseFold(string reposDir, string workRoot) => Make("casefold", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/casefold").Write("README.md", "upper\n").Write("readme.md", "lower\n");
        b.Commit("case collision", "2020-05-01T00:00:00Z");
        b.Tag("v1.0.0");
        b.Remove("readme.md");
        b.Write("bad:name.go", "package casefold\n");
        b.Commit("invalid name", "2020-05-02T00:00:00Z");
        b.Tag("v1.1.0");
        b.Remove("bad:name.go");
        b.Commit("clean", "2020-05-03T00:00:00Z");
        b.Tag("v1.2.0");
    },
    [""],
    ["@v1.0.0", "@v1.1.0", "@v1.2.0", "@latest"]);

    /// <summary>A retract directive in the go.mod of the highest release (retracting itself and v1.1.0).</summary>
    private static CraftedRepo Retract(string reposDir, string workRoot) => Make("retract", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/retract").Write("r.go", "package retract\n");
        b.Commit("one", "2020-06-01T00:00:00Z");
        b.Tag("v1.0.0");
        b.Write("r.go", "package retract\n\n// 1.1\n");
        b.Commit("two", "2020-07-01T00:00:00Z");
        b.Tag("v1.1.0");
        b.GoMod("", Owner + "/retract", "\nretract (\n\tv1.2.0 // published by mistake\n\tv1.1.0 // broken\n)\n");
        b.Commit("three", "2020-08-01T00:00:00Z");
        b.Tag("v1.2.0");
        b.Write("r.go", "package retract\n\n// later\n");
        b.Commit("later", "2020-09-01T00:00:00Z", "tip");
    },
    [""],
    ["@latest", "@v1.0.0", "@v1.1.0", "@v1.2.0", "@main", "@{tip12}"]);

    /// <summary>Only pre-release tags.</summary>
    private static CraftedRepo Prerelease(string reposDir, string workRoot) => Make("prerelease", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/prerelease").Write("p.go", "package prerelease\n");
        b.Commit("alpha", "2020-10-01T00:00:00Z");
        b.Tag("v0.1.0-alpha");
        b.Write("p.go", "package prerelease\n\n// beta\n");
        b.Commit("beta", "2020-10-02T00:00:00Z");
        b.Tag("v0.1.0-beta.2");
        b.Write("p.go", "package prerelease\n\n// rc\n");
        b.Commit("rc", "2020-10-03T00:00:00Z");
        b.Tag("v1.0.0-rc.1", annotated: true);
        b.Write("p.go", "package prerelease\n\n// later\n");
        b.Commit("later", "2020-10-04T00:00:00Z", "tip");
    },
    [""],
    ["@latest", "@v0.1.0-alpha", "@v1.0.0-rc.1", "@main", "@{tip12}"]);

    /// <summary>Lightweight and annotated tags, a non-canonical tag, a tag with build metadata, a tag only on a side branch.</summary>
    private static CraftedRepo Tags(string reposDir, string workRoot) => Make("tags", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/tags").Write("t.go", "package tags\n");
        b.Commit("one", "2020-11-01T00:00:00Z");
        b.Tag("v1.0.0").Tag("v1.3");
        b.Write("t.go", "package tags\n\n// 1.1\n");
        b.Commit("two", "2020-11-02T00:00:00Z");
        b.Tag("v1.1.0", annotated: true);
        b.Write("t.go", "package tags\n\n// meta\n");
        b.Commit("three", "2020-11-03T00:00:00Z");
        b.Tag("v1.4.0+meta");
        b.Checkout("feature", create: true);
        b.Write("feature.go", "package tags\n");
        b.Commit("feature", "2020-11-10T00:00:00Z", "feat");
        b.Tag("v1.5.0", annotated: true);
        b.Checkout("main");
        b.Write("t.go", "package tags\n\n// main later\n");
        b.Commit("main later", "2020-11-20T00:00:00Z", "tip");
        b.Checkout("pr", create: true);
        b.Write("pr.go", "package tags\n");
        b.Commit("pull request", "2020-11-25T00:00:00Z", "pr");
        b.Checkout("main");
        b.MoveBranchToRef("pr", "refs/pull/1/head");
    },
    [""],
    ["@v1.0.0", "@v1.1.0", "@v1.4.0+meta", "@v1.5.0", "@latest", "@feature", "@main", "@{feat12}", "@{tip40}", "@nosuchbranch", "@v1.3.0", "@{pr12}", "@{pr40}", "@pr"]);

    /// <summary>No tags at all: every version is a pseudo-version; the latest is the default branch's head.</summary>
    private static CraftedRepo NoTags(string reposDir, string workRoot) => Make("notags", reposDir, workRoot, b =>
    {
        b.GoMod("", Owner + "/notags").Write("n.go", "package notags\n");
        b.Commit("first", "2020-02-01T00:00:00Z", "first");
        b.Write("n.go", "package notags\n\n// second\n");
        b.Commit("second", "2020-02-02T00:00:00Z", "second");
    },
    [""],
    ["@latest", "@main", "@{first12}", "@{second40}", "@v0.0.0-20200201000000-{first12}", "@v0.0.0-20200201000001-{first12}",
     "@v1.0.0-20200201000000-{first12}", "@v0.0.0-20200201000000-{first40}", "@v0.0.0-20200201000000-{second12}", "@HEAD"]);

    /// <summary>A repository without commits.</summary>
    private static CraftedRepo Empty(string reposDir, string workRoot) => Make("empty", reposDir, workRoot, _ => { }, [""], ["@latest", "@v1.0.0", "@main"]);

    /// <summary>1,000 tags.</summary>
    private static CraftedRepo Many(string reposDir, string workRoot) => Make("many", reposDir, workRoot, b =>
    {
        var tags = Enumerable.Range(0, 1000).Select(i => $"v1.{i / 100}.{i % 100}").ToList();
        b.FastImportTaggedCommits(tags, 1_600_000_000, $"module {Owner}/many\n\ngo 1.19\n");
    },
    [""],
    ["@latest", "@v1.5.50"]);
}

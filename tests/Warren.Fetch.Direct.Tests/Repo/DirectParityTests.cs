using System.Diagnostics;
using System.IO.Compression;
using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>CodeRepo against the real go command (Go 1.19, GOPROXY=direct) on repositories made for each rule:
/// Version, Time, zip h1 and go.mod h1 of every query, and the version lists, must be the same.</summary>
public sealed class DirectParityTests(DirectParityFixture fixture) : IClassFixture<DirectParityFixture>
{
    private async Task AssertParity(string name)
    {
        var (diffs, table, _) = await fixture.CompareAsync(name);
        if (Environment.GetEnvironmentVariable("WARREN_PARITY_REPORT") is { Length: > 0 } reportDir)
        {
            Directory.CreateDirectory(reportDir);
            await File.WriteAllTextAsync(Path.Combine(reportDir, name + ".txt"), table);
        }

        Assert.True(diffs.Count == 0, string.Join('\n', diffs) + "\n\n" + table);
    }

    [Fact]
    public Task Nested_module_with_prefixed_tags_and_root_LICENSE_copy() => AssertParity("nested");

    [Fact]
    public Task Major_version_subdirectory_module() => AssertParity("major");

    [Fact]
    public Task Major_version_at_the_root() => AssertParity("majorbranch");

    [Fact]
    public Task Incompatible_versions_without_go_mod() => AssertParity("incompat");

    [Fact]
    public Task Incompatible_versions_when_go_mod_appears_later() => AssertParity("incompat2");

    [Fact]
    public Task Vendor_directories_and_nested_modules() => AssertParity("vendor");

    [Fact]
    public Task Symlinks_submodules_and_gitattributes() => AssertParity("special");

    [Fact]
    public Task Case_collisions_and_invalid_file_names() => AssertParity("casefold");

    [Fact]
    public Task Retracted_versions() => AssertParity("retract");

    [Fact]
    public Task Prerelease_only() => AssertParity("prerelease");

    [Fact]
    public Task Annotated_lightweight_and_side_branch_tags() => AssertParity("tags");

    [Fact]
    public Task A_thousand_tags() => AssertParity("many");

    [Fact]
    public Task No_tags_pseudo_versions_only() => AssertParity("notags");

    [Fact]
    public Task Repository_without_commits() => AssertParity("empty");

    /// <summary>Every query of every crafted repository answered from a shallow copy first (depth-1 fetches of single
    /// refs, as while a mirror is being created) gives the go command's answer; a version that is a tag is answered
    /// without waiting for the complete repository.</summary>
    [Theory]
    [InlineData("nested")]
    [InlineData("major")]
    [InlineData("majorbranch")]
    [InlineData("incompat")]
    [InlineData("incompat2")]
    [InlineData("vendor")]
    [InlineData("special")]
    [InlineData("casefold")]
    [InlineData("retract")]
    [InlineData("prerelease")]
    [InlineData("tags")]
    [InlineData("notags")]
    [InlineData("empty")]
    public async Task Shallow_first_answers_are_the_go_commands(string name)
    {
        var (diffs, table, shallowOnly) = await fixture.CompareAsync(name, shallowFirst: true);
        Assert.True(diffs.Count == 0, string.Join('\n', diffs) + "\n\n" + table);
        var repo = fixture.Repo(name);
        var tagged = new List<string>();
        foreach (var (module, query) in repo.ResolvedQueries())
        {
            var code = new CodeRepo(DirectParityFixture.Local(repo.BareDir), module, repo.Root);
            string tag = (code.CodeDir.Length == 0 ? "" : code.CodeDir + "/") + query;
            if (fixture.Go[module + "@" + query] is { Error: null } go && go.Version == query
                && TestGit.Run(null, "--git-dir=" + repo.BareDir, "tag", "--list", tag).Length > 0)
            {
                tagged.Add(module + "@" + query);
            }
        }

        Assert.Empty(tagged.Except(shallowOnly));
        Assert.Equal(name is "notags" or "empty", tagged.Count == 0);
    }

    [Fact]
    public async Task A_thousand_tags_list_quickly()
    {
        var repo = fixture.Repo("many");
        var code = new CodeRepo(DirectParityFixture.Local(repo.BareDir), repo.Root, repo.Root);
        var sw = Stopwatch.StartNew();
        var list = await code.ListAsync(CancellationToken.None);
        sw.Stop();
        Assert.True(list.Ok, list.Message);
        Assert.Equal(1000, list.Value!.Count);
        Assert.Equal("v1.0.0", list.Value[0]);
        Assert.Equal("v1.9.99", list.Value[^1]);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"listing 1000 tags took {sw.Elapsed}");
    }

    [Fact]
    public async Task Vendor_zip_content_is_what_Go_1_19_keeps()
    {
        var names = await ZipNamesAsync("vendor", "", "v1.0.0");
        string p = CraftedRepos.Owner + "/vendor@v1.0.0/";
        Assert.Equal(
            new[] { "deep/a/b/c.go", "go.mod", "main.go", "vendor/a.go", "vendor/modules.txt", "x/vendorish/ok.go" }.Select(n => p + n),
            names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Subdirectory_module_gets_the_root_LICENSE()
    {
        var names = await ZipNamesAsync("nested", "sub", "v1.1.0");
        string p = CraftedRepos.Owner + "/nested/sub@v1.1.0/";
        Assert.Equal(new[] { "LICENSE", "b.go", "deeper/c.go", "go.mod" }.Select(n => p + n), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Symlinks_and_submodules_are_left_out_and_export_attributes_are_ignored()
    {
        var names = await ZipNamesAsync("special", "", "v1.0.0");
        string p = CraftedRepos.Owner + "/special@v1.0.0/";
        Assert.Equal(new[] { ".gitattributes", "a.go", "eol.txt", "go.mod", "ignored.txt", "subst.txt", "x/f.go" }.Select(n => p + n), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Info_json_is_the_proxy_protocol_form()
    {
        var info = new RevInfo("v4.3.1+incompatible", new DateTimeOffset(2019, 1, 3, 19, 13, 8, TimeSpan.Zero));
        Assert.Equal("{\"Version\":\"v4.3.1+incompatible\",\"Time\":\"2019-01-03T19:13:08Z\"}", info.ToInfoJson());
    }

    [Fact]
    public void Synthesized_go_mod_is_one_module_line()
    {
        Assert.Equal("module github.com/davecgh/go-spew\n"u8.ToArray(), CodeRepo.LegacyGoMod("github.com/davecgh/go-spew"));
    }

    private async Task<List<string>> ZipNamesAsync(string repoName, string sub, string version)
    {
        var repo = fixture.Repo(repoName);
        string module = sub.Length == 0 ? repo.Root : repo.Root + "/" + sub;
        var code = new CodeRepo(DirectParityFixture.Local(repo.BareDir), module, repo.Root);
        string dir = TestPaths.NewTempDir("zip");
        try
        {
            string zip = Path.Combine(dir, "m.zip");
            var r = await code.ZipAsync(version, zip, CancellationToken.None);
            Assert.True(r.Status == DirectStatus.Ok, r.Message);
            using var archive = ZipFile.OpenRead(zip);
            return archive.Entries.Select(e => e.FullName).ToList();
        }
        finally
        {
            TestPaths.TryDeleteDirectory(dir);
        }
    }
}

using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>LocalGitRepository on a small bare repository: refs as ls-remote shows them, resolution limited to what the
/// go command can fetch, file reads, the info/attributes line, and the refresh delegate.</summary>
public sealed class LocalGitRepositoryTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("local-git");
    private readonly RepoBuilder _builder;
    private readonly string _bare;

    public LocalGitRepositoryTests()
    {
        _builder = new RepoBuilder(Path.Combine(_root, "work"));
        _builder.GoMod("", "example.com/m").Write("a.txt", "a\n").Symlink("link", "a.txt");
        _builder.Commit("one", "2022-01-02T03:04:05Z", "one");
        _builder.Tag("v1.0.0", annotated: true).Tag("light");
        _builder.Checkout("side", create: true);
        _builder.Write("b.txt", "b\n");
        _builder.Commit("side", "2022-02-02T00:00:00Z", "side");
        _builder.Checkout("main");
        _builder.MoveBranchToRef("side", "refs/pull/7/head");
        _bare = _builder.CloneBare(Path.Combine(_root, "m.git"));
    }

    public void Dispose() => TestPaths.TryDeleteDirectory(_root);

    [Fact]
    public async Task Refs_are_heads_tags_and_HEAD_with_annotated_tags_peeled()
    {
        var repo = DirectParityFixture.Local(_bare);
        var (refs, head) = await repo.ListRefsAsync(CancellationToken.None);
        string one = _builder.Commits["one"];
        Assert.Equal("refs/heads/main", head);
        Assert.Equal(
            new[] { ("HEAD", one), ("refs/heads/main", one), ("refs/tags/light", one), ("refs/tags/v1.0.0", one) },
            refs.Select(r => (r.Name, r.Hash)));
    }

    [Fact]
    public async Task Resolve_gives_committer_time_and_refuses_commits_outside_branches_and_tags()
    {
        var repo = DirectParityFixture.Local(_bare);
        var c = await repo.ResolveAsync("refs/tags/v1.0.0", CancellationToken.None);
        Assert.Equal(_builder.Commits["one"], c!.Hash);
        Assert.Equal(new DateTimeOffset(2022, 1, 2, 3, 4, 5, TimeSpan.Zero), c.Time);
        Assert.Equal(c, await repo.ResolveAsync(_builder.Commits["one"][..9], CancellationToken.None));
        Assert.Null(await repo.ResolveAsync(_builder.Commits["side"], CancellationToken.None));
        Assert.Null(await repo.ResolveAsync("refs/pull/7/head", CancellationToken.None));
        Assert.Null(await repo.ResolveAsync("nosuch", CancellationToken.None));
        Assert.Null(await repo.ResolveAsync("--all", CancellationToken.None));
    }

    [Fact]
    public async Task Files_are_read_with_cat_file()
    {
        var repo = DirectParityFixture.Local(_bare);
        string one = _builder.Commits["one"];
        Assert.Equal("a\n"u8.ToArray(), await repo.ReadFileAsync(one, "a.txt", 100, CancellationToken.None));
        Assert.Null(await repo.ReadFileAsync(one, "missing.txt", 100, CancellationToken.None));
        Assert.Equal("a.txt"u8.ToArray(), await repo.ReadFileAsync(one, "link", 100, CancellationToken.None));
        await Assert.ThrowsAsync<GitCommandException>(() => repo.ReadFileAsync(one, "a.txt", 1, CancellationToken.None));
        Assert.Equal(["refs/tags/light", "refs/tags/v1.0.0"], (await repo.TagsMergedIntoAsync(one, CancellationToken.None)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Archive_adds_the_go_command_s_attribute_line_once()
    {
        var repo = DirectParityFixture.Local(_bare);
        string zip = Path.Combine(_root, "a.zip");
        await repo.WriteArchiveAsync(_builder.Commits["one"], "", zip, CancellationToken.None);
        await repo.WriteArchiveAsync(_builder.Commits["one"], "", zip, CancellationToken.None);
        Assert.Equal("\n* -export-subst -export-ignore\n", await File.ReadAllTextAsync(Path.Combine(_bare, "info", "attributes")));
        Assert.True(new FileInfo(zip).Length > 0);
        await Assert.ThrowsAsync<FileNotFoundException>(() => repo.WriteArchiveAsync(_builder.Commits["one"], "nosuchdir", zip, CancellationToken.None));
    }

    [Fact]
    public async Task Refresh_is_delegated_and_its_failure_is_reported()
    {
        int calls = 0;
        var runner = new GitRunner();
        var repo = new LocalGitRepository(_bare, runner, (force, _) =>
        {
            calls++;
            return Task.FromResult(DirectResult.Failed("origin unreachable"));
        });
        var code = new CodeRepo(repo, "example.com/m", "example.com/m");
        var list = await code.ListAsync(CancellationToken.None);
        Assert.Equal(DirectStatus.Failed, list.Status);
        Assert.Equal("origin unreachable", list.Message);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Module_outside_the_repository_is_not_found()
    {
        var code = new CodeRepo(DirectParityFixture.Local(_bare), "example.com/other", "example.com/m");
        var stat = await code.StatAsync("v1.0.0", CancellationToken.None);
        Assert.Equal(DirectStatus.NotFound, stat.Status);
        Assert.Equal("mismatched repo: found example.com/m for example.com/other", stat.Message);
    }
}

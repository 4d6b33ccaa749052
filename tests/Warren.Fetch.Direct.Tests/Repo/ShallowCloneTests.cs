using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>The shallow copy read while a mirror is being made: what it takes from ls-remote, what it fetches, and that
/// whatever it cannot answer exactly as the mirror would goes to the mirror.</summary>
public sealed class ShallowCloneTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("shallow-clone");

    public void Dispose() => TestPaths.TryDeleteDirectory(_root);

    private const string A = "1111111111111111111111111111111111111111";
    private const string B = "2222222222222222222222222222222222222222";
    private const string C = "3333333333333333333333333333333333333333";

    [Fact]
    public void Ls_remote_lines_become_refs_with_annotated_tags_peeled_and_names_git_would_refuse_dropped()
    {
        var (refs, head) = ShallowClone.ParseLsRemote(
            $"ref: refs/heads/main\tHEAD\n{A}\tHEAD\n{A}\trefs/heads/main\n{B}\trefs/tags/v1.0.0\n{A}\trefs/tags/v1.0.0^{{}}\n" +
            $"{C}\trefs/heads/*\n{C}\trefs/tags/a..b\n{C}\trefs/tags/x.lock\n{C}\trefs/tags/with space\n{C}\trefs/tags/.hidden\n" +
            $"{C}\trefs/pull/1/head\nnot-a-hash\trefs/tags/v9.0.0\n");
        Assert.Equal("refs/heads/main", head);
        Assert.Equal(new[] { new GitRef("HEAD", A), new GitRef("refs/heads/main", A), new GitRef("refs/tags/v1.0.0", A) }, refs);
    }

    [Fact]
    public void A_detached_HEAD_is_left_out_as_the_mirror_leaves_it_out()
    {
        var (refs, head) = ShallowClone.ParseLsRemote($"{A}\tHEAD\n{A}\trefs/heads/main\n");
        Assert.Null(head);
        Assert.Equal(new[] { new GitRef("refs/heads/main", A) }, refs);
    }

    [Fact]
    public async Task A_ref_the_origin_moved_after_advertising_it_is_read_from_the_mirror()
    {
        var builder = new RepoBuilder(Path.Combine(_root, "work"));
        builder.GoMod("", "example.com/moved").Commit("one", "2022-01-02T03:04:05Z", "one");
        var bare = builder.CloneBare(Path.Combine(_root, "moved.git"));
        using var clone = DirectParityFixture.Shallow(bare, Path.Combine(_root, "scratch.git"));

        // main moves after the ls-remote the copy was made from.
        builder.Write("later.txt", "later\n").Commit("two", "2022-03-04T05:06:07Z", "two");
        builder.Git("push", "--quiet", "--force", bare, "main:main");

        var repo = new ShallowFirstRepository(clone, _ => Task.FromResult<IGitRepository>(DirectParityFixture.Local(bare)));
        var commit = await repo.ResolveAsync("refs/heads/main", CancellationToken.None);
        Assert.Equal(builder.Commits["two"], commit?.Hash);
        Assert.True(repo.UsedComplete);
        Assert.False(clone.Has(builder.Commits["two"]));
    }

    [Fact]
    public async Task Once_the_mirror_is_made_nothing_more_is_fetched_and_after_disposal_nothing_at_all()
    {
        var builder = new RepoBuilder(Path.Combine(_root, "work"));
        builder.GoMod("", "example.com/ready").Commit("one", "2022-01-02T03:04:05Z", "one");
        builder.Tag("v1.0.0");
        var bare = builder.CloneBare(Path.Combine(_root, "ready.git"));
        var runner = new GitRunner();
        string ls = TestGit.Run(null, "ls-remote", "--symref", "file://" + bare, "HEAD", "refs/heads/*", "refs/tags/*");
        string scratch = Path.Combine(_root, "ready-scratch.git");
        using var ready = new ShallowClone(scratch, Warren.Fetch.Direct.Git.GitMirrorManager.ParseLsRemote(ls), _ => throw new InvalidOperationException("nothing may be fetched"),
            (_, _) => throw new InvalidOperationException("nothing may be fetched"), runner, TimeSpan.FromMinutes(1), mirrorReady: Task.FromResult(true));

        var repo = new ShallowFirstRepository(ready, _ => Task.FromResult<IGitRepository>(DirectParityFixture.Local(bare)));
        Assert.Equal(builder.Commits["one"], (await repo.ResolveAsync("refs/tags/v1.0.0", CancellationToken.None))?.Hash);
        Assert.True(repo.UsedComplete);
        Assert.Equal(0, ready.Fetches);

        using var disposed = DirectParityFixture.Shallow(bare, Path.Combine(_root, "disposed.git"));
        disposed.Dispose();
        Assert.False(await disposed.EnsureAsync("refs/tags/v1.0.0", CancellationToken.None));
        Assert.False(Directory.Exists(disposed.GitDirectory));
    }
}

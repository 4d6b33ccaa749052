using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>MirrorMemos over a real repository: reads are shared across requests while the generation holds, read again
/// once it changes, failures and large files are not kept, and an abbreviated hash is never taken as fixed content.</summary>
public sealed class MirrorMemosTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("mirror-memos");
    private readonly RepoBuilder _builder;
    private readonly string _bare;
    private long _generation = 1;

    public MirrorMemosTests()
    {
        _builder = new RepoBuilder(Path.Combine(_root, "work"));
        _builder.GoMod("", "example.com/m").Write("big.txt", new string('x', MirrorMemos.MaxFileBytes + 1));
        _builder.Commit("one", "2022-01-02T03:04:05Z", "one");
        _builder.Tag("v1.0.0");
        _bare = _builder.CloneBare(Path.Combine(_root, "m.git"));
    }

    public void Dispose() => TestPaths.TryDeleteDirectory(_root);

    /// <summary>A real LocalGitRepository that counts the reads reaching it.</summary>
    private sealed class Counting(IGitRepository inner) : IGitRepository
    {
        public int Refs;
        public int Resolves;
        public int Files;
        public int Merged;

        public string GitDirectory => inner.GitDirectory;

        public Task<DirectResult> RefreshAsync(bool force, CancellationToken cancellationToken) => inner.RefreshAsync(force, cancellationToken);

        public Task<(IReadOnlyList<GitRef> Refs, string? HeadBranch)> ListRefsAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Refs);
            return inner.ListRefsAsync(cancellationToken);
        }

        public Task<CommitInfo?> ResolveAsync(string rev, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Resolves);
            return inner.ResolveAsync(rev, cancellationToken);
        }

        public Task<byte[]?> ReadFileAsync(string commit, string path, long maxBytes, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Files);
            return inner.ReadFileAsync(commit, path, maxBytes, cancellationToken);
        }

        public Task WriteArchiveAsync(string commit, string subdirectory, string destination, CancellationToken cancellationToken) =>
            inner.WriteArchiveAsync(commit, subdirectory, destination, cancellationToken);

        public Task<IReadOnlyList<string>> TagsMergedIntoAsync(string commit, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Merged);
            return inner.TagsMergedIntoAsync(commit, cancellationToken);
        }
    }

    [Fact]
    public async Task Requests_share_reads_until_the_generation_changes()
    {
        var memos = new MirrorMemos();
        var counting = new Counting(DirectParityFixture.Local(_bare));
        string one = _builder.Commits["one"];

        // Two requests (two wrappers, as DirectFetcher makes one per request), the same generation.
        for (var request = 0; request < 2; request++)
        {
            var repo = memos.Wrap(counting, () => _generation);
            var (refs, head) = await repo.ListRefsAsync(CancellationToken.None);
            Assert.Contains(refs, r => r.Name == "refs/tags/v1.0.0" && r.Hash == one);
            Assert.Equal("refs/heads/main", head);
            Assert.Equal(one, (await repo.ResolveAsync("refs/tags/v1.0.0", CancellationToken.None))!.Hash);
            Assert.Null(await repo.ResolveAsync("refs/tags/v2.0.0", CancellationToken.None));
            Assert.StartsWith("module example.com/m\n", System.Text.Encoding.UTF8.GetString((await repo.ReadFileAsync(one, "go.mod", 1 << 20, CancellationToken.None))!), StringComparison.Ordinal);
            Assert.Equal(["refs/tags/v1.0.0"], await repo.TagsMergedIntoAsync(one, CancellationToken.None));
        }

        Assert.Equal((1, 2, 1, 1), (counting.Refs, counting.Resolves, counting.Files, counting.Merged));

        // The mirror gains a tag and its generation changes: everything is read again and the tag is seen.
        _builder.Commit("two", "2022-03-04T00:00:00Z", "two");
        _builder.Tag("v2.0.0");
        TestGit.Run(null, "--git-dir=" + _bare, "fetch", "--quiet", Path.Combine(_root, "work"), "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*");
        var stale = memos.Wrap(counting, () => _generation);
        Assert.Null(await stale.ResolveAsync("refs/tags/v2.0.0", CancellationToken.None));
        _generation++;
        var fresh = memos.Wrap(counting, () => _generation);
        Assert.Equal(_builder.Commits["two"], (await fresh.ResolveAsync("refs/tags/v2.0.0", CancellationToken.None))!.Hash);
        Assert.Contains((await fresh.ListRefsAsync(CancellationToken.None)).Refs, r => r.Name == "refs/tags/v2.0.0");
        Assert.Equal((2, 3), (counting.Refs, counting.Resolves));
        Assert.Equal(1, memos.Count);
    }

    [Fact]
    public async Task Failures_large_files_and_abbreviated_hashes_are_not_kept()
    {
        var memos = new MirrorMemos();
        var counting = new Counting(DirectParityFixture.Local(_bare));
        var repo = memos.Wrap(counting, () => _generation);
        string one = _builder.Commits["one"];

        // Too large for the limit: an error each time, never a remembered one.
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<GitCommandException>(() => repo.ReadFileAsync(one, "big.txt", 10, CancellationToken.None));
        }

        Assert.Equal(2, counting.Files);

        // Larger than the memo keeps: read each time.
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(MirrorMemos.MaxFileBytes + 1, (await repo.ReadFileAsync(one, "big.txt", 1 << 20, CancellationToken.None))!.Length);
        }

        Assert.Equal(4, counting.Files);

        // An abbreviated hash may name another commit tomorrow: not kept.
        for (var i = 0; i < 2; i++)
        {
            Assert.NotNull(await repo.ReadFileAsync(one[..12], "go.mod", 1 << 20, CancellationToken.None));
        }

        Assert.Equal(6, counting.Files);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_read_others_share()
    {
        var memos = new MirrorMemos();
        var counting = new Counting(DirectParityFixture.Local(_bare));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => memos.Wrap(counting, () => _generation).ListRefsAsync(cancelled.Token));
        var (refs, _) = await memos.Wrap(counting, () => _generation).ListRefsAsync(CancellationToken.None);
        Assert.NotEmpty(refs);
        Assert.Equal(1, counting.Refs);
    }
}

using Warren.Core.Modules;
using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>Runs alone: it measures the bytes this process allocates.</summary>
[CollectionDefinition(nameof(LargeBlobCollection), DisableParallelization = true)]
public sealed class LargeBlobCollection
{
}

/// <summary>A 50 MB go.mod in a repository: refused before it is read (git cat-file -s), with the go command's limit
/// (cmd/go/internal/modfetch/codehost.MaxGoMod, 16 MiB) in a one-line message, and without holding it in memory.</summary>
[Collection(nameof(LargeBlobCollection))]
public sealed class LargeBlobTests : IDisposable
{
    private const int Size = 50 << 20;
    private readonly string _dir = TestPaths.NewTempDir("large-blob");

    public void Dispose() => TestPaths.TryDeleteDirectory(_dir);

    [Fact]
    public async Task A_50_MB_go_mod_is_refused_with_a_clear_message_and_bounded_memory()
    {
        var builder = new RepoBuilder(Path.Combine(_dir, "work"));
        builder.GoMod("", "example.com/huge").Commit("small", "2020-01-01T00:00:00Z", "small");
        builder.Tag("v1.0.0");

        // module line, then 50 MB of comment lines (a valid go.mod, only too large).
        var goMod = Path.Combine(builder.WorkDir, "go.mod");
        await using (var f = new FileStream(goMod, FileMode.Create, FileAccess.Write))
        {
            var header = "module example.com/huge\n\ngo 1.19\n"u8.ToArray();
            f.Write(header);
            var line = new byte[1024];
            Array.Fill(line, (byte)'x');
            line[0] = (byte)'/';
            line[1] = (byte)'/';
            line[^1] = (byte)'\n';
            for (var written = header.Length; written < Size; written += line.Length)
            {
                f.Write(line);
            }
        }

        builder.Commit("huge", "2020-01-02T00:00:00Z", "huge");
        builder.Tag("v1.1.0");
        var commit = builder.Commits["huge"];
        var blobSize = long.Parse(builder.Git("cat-file", "-s", commit + ":go.mod"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(blobSize >= Size);

        var repo = DirectParityFixture.Local(Path.Combine(builder.WorkDir, ".git"));

        // Warm up (JIT, first process start) with another instance so the measurement sees only the read itself.
        var warm = await new CodeRepo(repo, "example.com/huge", "example.com/huge").GoModAsync("v1.1.0", default);
        Assert.Equal(DirectStatus.Failed, warm.Result.Status);

        var code = new CodeRepo(repo, "example.com/huge", "example.com/huge");
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var huge = await code.GoModAsync("v1.1.0", default);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.NotEqual(DirectStatus.Ok, huge.Result.Status);
        Assert.Null(huge.Value);
        Assert.Equal($"go.mod at revision {commit} is too large ({blobSize} bytes; max size is {ModuleZip.MaxGoMod} bytes)", huge.Result.Message);
        Assert.DoesNotContain('\n', huge.Result.Message);
        Assert.True(allocated < 8L << 20, $"reading the refused go.mod allocated {allocated} bytes");

        // The direct read refuses it the same way.
        var direct = await Assert.ThrowsAsync<GitCommandException>(() => repo.ReadFileAsync(commit, "go.mod", ModuleZip.MaxGoMod, default));
        Assert.Contains("is too large", direct.Message, StringComparison.Ordinal);

        // Any output kept in memory is bounded too: the run is cut off, not buffered.
        var runner = new GitRunner { MaxOutputBytes = 1 << 20 };
        before = GC.GetTotalAllocatedBytes(precise: true);
        var cut = await runner.RunAsync(Path.Combine(builder.WorkDir, ".git"), ["cat-file", "blob", commit + ":go.mod"], TimeSpan.FromMinutes(1), default);
        allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.False(cut.Ok);
        Assert.Empty(cut.Stdout);
        Assert.Equal("fatal: git output exceeds 1048576 bytes", cut.Stderr);
        Assert.True(allocated < 8L << 20, $"the cut-off run allocated {allocated} bytes");
    }
}

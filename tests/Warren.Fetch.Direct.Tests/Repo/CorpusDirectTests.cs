using System.Globalization;
using Warren.Core.Modules;
using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>The 8 bare repositories of shared/corpus/git/make_git_repos.py, built from the corpus zips.</summary>
public sealed class CorpusGitFixture : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDir("corpus-git");

    public string ReposDir => Path.Combine(_root, "repos");

    public Task InitializeAsync() => GitCorpusServer.BuildReposAsync(_root);

    public Task DisposeAsync()
    {
        TestPaths.TryDeleteDirectory(_root);
        return Task.CompletedTask;
    }

    /// <summary>A CodeRepo for a module path: the repository is the longest prefix of the path that is a repository.</summary>
    public CodeRepo Open(string modulePath)
    {
        var parts = modulePath.Split('/');
        for (int n = parts.Length; n > 0; n--)
        {
            string root = string.Join('/', parts[..n]);
            string dir = Path.Combine(ReposDir, root + ".git");
            if (Directory.Exists(dir))
            {
                return new CodeRepo(DirectParityFixture.Local(dir), modulePath, root);
            }
        }

        Assert.Fail("no repository for " + modulePath);
        return null!;
    }
}

/// <summary>The corpus git repositories against what the real go client reported for them in direct mode
/// (shared/corpus/git/direct-results.txt, the table of shared/corpus/README.md).</summary>
public sealed class CorpusDirectTests(CorpusGitFixture fixture) : IClassFixture<CorpusGitFixture>
{
    /// <summary>module, version, zip h1, go.mod h1 rows of direct-results.txt.</summary>
    public static TheoryData<string, string, string, string> Downloads()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var line in File.ReadLines(TestPaths.DirectResults))
        {
            var f = line.Split('\t');
            if (f.Length == 5 && f[2].StartsWith("h1:", StringComparison.Ordinal))
            {
                data.Add(f[0], f[1], f[2], f[3]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Downloads))]
    public async Task Every_version_has_the_sums_the_go_command_reported(string module, string version, string zipSum, string goModSum)
    {
        var repo = fixture.Open(module);
        var stat = await repo.StatAsync(version, CancellationToken.None);
        Assert.True(stat.Ok, stat.Message);
        Assert.Equal(version, stat.Value!.Version);

        var mod = await repo.GoModAsync(version, CancellationToken.None);
        Assert.True(mod.Ok, mod.Message);
        Assert.Equal(goModSum, DirHash.HashGoMod(mod.Value));

        string dir = TestPaths.NewTempDir("corpus-zip");
        try
        {
            string zip = Path.Combine(dir, "m.zip");
            var z = await repo.ZipAsync(version, zip, CancellationToken.None);
            Assert.True(z.Status == DirectStatus.Ok, z.Message);
            Assert.Equal(zipSum, DirHash.HashZip(zip));
            Assert.True(ModuleZip.Check(zip, module, version).IsValid);
        }
        finally
        {
            TestPaths.TryDeleteDirectory(dir);
        }
    }

    /// <summary>"go list -m -versions M: M v1 v2" lines.</summary>
    public static TheoryData<string, string> VersionLists()
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadLines(TestPaths.DirectResults))
        {
            const string marker = "go list -m -versions ";
            if (line.StartsWith(marker, StringComparison.Ordinal))
            {
                int colon = line.IndexOf(": ", StringComparison.Ordinal);
                string module = line[marker.Length..colon];
                var rest = line[(colon + 2)..].Split(' ');
                Assert.Equal(module, rest[0]);
                data.Add(module, string.Join(' ', rest[1..]));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(VersionLists))]
    public async Task Version_lists_are_the_go_command_s(string module, string versions)
    {
        var list = await fixture.Open(module).ListAsync(CancellationToken.None);
        Assert.True(list.Ok, list.Message);
        Assert.Equal(versions, string.Join(' ', list.Value!));
    }

    /// <summary>"go list -m M@query: VERSION TIME" lines (@latest, @main, a commit hash).</summary>
    public static TheoryData<string, string, string, string> Queries()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var line in File.ReadLines(TestPaths.DirectResults))
        {
            const string marker = "go list -m ";
            if (line.StartsWith(marker, StringComparison.Ordinal) && !line.StartsWith("go list -m -versions", StringComparison.Ordinal))
            {
                int colon = line.IndexOf(": ", StringComparison.Ordinal);
                string arg = line[marker.Length..colon];
                int at = arg.IndexOf('@', StringComparison.Ordinal);
                string result = line[(colon + 2)..];
                int space = result.IndexOf(' ', StringComparison.Ordinal);
                data.Add(arg[..at], arg[(at + 1)..], result[..space], result[(space + 1)..]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Queries_resolve_as_the_go_command_resolved_them(string module, string query, string version, string time)
    {
        var repo = fixture.Open(module);
        var info = query == "latest" ? await repo.LatestAsync(CancellationToken.None) : await repo.StatAsync(query, CancellationToken.None);
        Assert.True(info.Ok, info.Message);
        Assert.Equal(version, info.Value!.Version);
        Assert.Equal(time, info.Value.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss '+0000 UTC'", CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Dev_branch_of_pkg_errors_is_a_pseudo_version()
    {
        var repo = fixture.Open("github.com/pkg/errors");
        var info = await repo.StatAsync("dev", CancellationToken.None);
        Assert.True(info.Ok, info.Message);
        Assert.Equal("v0.9.2-0.20210601120000-284691ab71dd", info.Value!.Version);
        Assert.Equal("{\"Version\":\"v0.9.2-0.20210601120000-284691ab71dd\",\"Time\":\"2021-06-01T12:00:00Z\"}", info.Value.ToInfoJson());
        var full = await repo.StatAsync("284691ab71dd4c1115f847be2dd36e35ed45344b", CancellationToken.None);
        Assert.Equal(info.Value.Version, full.Value?.Version);
    }

    [Fact]
    public async Task The_expected_tables_are_complete()
    {
        Assert.Equal(13, Downloads().Count);
        Assert.Equal(4, VersionLists().Count);
        Assert.Equal(5, Queries().Count);
        Assert.True(Directory.Exists(Path.Combine(fixture.ReposDir, "gopkg.in", "yaml.v3.git")));
        var list = await fixture.Open("github.com/gofrs/uuid").ListAsync(CancellationToken.None);
        Assert.Equal(["v4.3.1+incompatible"], list.Value!);
    }
}

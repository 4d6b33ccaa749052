using System.Text;
using System.Text.Json;
using Warren.Core.Modules;
using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>What one side (the real go command, or CodeRepo) said for module@query.</summary>
internal sealed record QueryOutcome(string Version, string? Error, string? Sum, string? GoModSum, string? Time)
{
    public override string ToString() => Error is null ? $"{Version} {Time} zip={Sum} mod={GoModSum}" : $"{Version} {Time} mod={GoModSum} ERROR {Error}";
}

/// <summary>Builds the crafted repositories, serves them with git_serve.py and asks the real go command (GOPROXY=direct)
/// every query in one `go mod download -json` and every version list in one `go list -m -versions -retracted`.</summary>
public sealed class DirectParityFixture : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDir("direct-parity");

    internal List<CraftedRepo> Repos { get; private set; } = [];

    internal Dictionary<string, QueryOutcome> Go { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, (string[] Versions, string? Error)> GoLists { get; } = new(StringComparer.Ordinal);

    internal string GoLog { get; private set; } = "";

    public async Task InitializeAsync()
    {
        TestPaths.RequireGo();
        string reposDir = Path.Combine(_root, "repos");
        Repos = CraftedRepos.BuildAll(reposDir, Path.Combine(_root, "work"));

        await using var server = await GitServe.StartAsync(reposDir);
        var home = Path.Combine(_root, "gohome");
        var go = new GoRunner("direct", home)
            .WithGitConfig(TestGit.WriteGitHubInsteadOf(Path.Combine(home, "gitconfig"), server.Url))
            .With("NO_PROXY", "127.0.0.1,localhost");
        var work = Directory.CreateDirectory(Path.Combine(home, "work")).FullName;
        var args = new List<string> { "mod", "download", "-json" };
        foreach (var repo in Repos)
        {
            foreach (var (module, query) in repo.ResolvedQueries())
            {
                args.Add(module + "@" + query);
            }
        }

        var listArgs = new List<string> { "list", "-m", "-json", "-e", "-versions", "-retracted" };
        listArgs.AddRange(Repos.SelectMany(r => r.Modules));
        var downloads = go.RunAsync(work, [.. args]);
        var lists = go.RunAsync(work, [.. listArgs]);
        var d = await downloads;
        var l = await lists;
        GoLog = "go mod download: " + d + "\ngo list: " + l;

        int i = 3;
        foreach (var o in GoRunner.JsonStream(d.Stdout))
        {
            string key = args[i++];
            string? Get(string name) => o.TryGetProperty(name, out var p) ? p.GetString() : null;
            string? time = null;
            if (Get("Info") is { } infoFile && File.Exists(infoFile))
            {
                using var info = JsonDocument.Parse(File.ReadAllBytes(infoFile));
                time = info.RootElement.GetProperty("Time").GetString();
            }

            Go[key] = new QueryOutcome(Get("Version") ?? "", Get("Error"), Get("Sum"), Get("GoModSum"), time);
        }

        foreach (var o in GoRunner.JsonStream(l.Stdout))
        {
            string path = o.GetProperty("Path").GetString()!;
            var versions = o.TryGetProperty("Versions", out var vs) ? vs.EnumerateArray().Select(v => v.GetString()!).ToArray() : [];
            string? error = o.TryGetProperty("Error", out var e) ? e.GetProperty("Err").GetString() : null;
            GoLists[path] = (versions, error);
        }
    }

    public Task DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("WARREN_KEEP_TEST_DIRS") != "1")
        {
            TestPaths.TryDeleteDirectory(_root);
        }

        return Task.CompletedTask;
    }

    internal CraftedRepo Repo(string name) => Repos.Single(r => r.Name == name);

    internal static LocalGitRepository Local(string bareDir)
    {
        var runner = new GitRunner();
        runner.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        runner.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        return new LocalGitRepository(bareDir, runner, (_, _) => Task.FromResult(DirectResult.Success));
    }

    /// <summary>What CodeRepo says for module@query: the version (Stat, or the "latest" query), then its go.mod and zip hashes.</summary>
    internal static async Task<QueryOutcome> OursAsync(CodeRepo repo, string query, string scratchDir)
    {
        var stat = query == "latest" ? await repo.LatestAsync(CancellationToken.None) : await repo.StatAsync(query, CancellationToken.None);
        if (!stat.Ok)
        {
            return new QueryOutcome(query, stat.Message, null, null, null);
        }

        string version = stat.Value!.Version;
        string time = RevInfo.FormatTime(stat.Value.Time);
        var mod = await repo.GoModAsync(version, CancellationToken.None);
        if (!mod.Ok)
        {
            return new QueryOutcome(version, mod.Message, null, null, time);
        }

        string modSum = DirHash.HashGoMod(mod.Value);
        string zip = Path.Combine(scratchDir, Guid.NewGuid().ToString("N") + ".zip");
        var z = await repo.ZipAsync(version, zip, CancellationToken.None);
        if (z.Status != DirectStatus.Ok)
        {
            return new QueryOutcome(version, z.Message, null, modSum, time);
        }

        string sum = DirHash.HashZip(zip);
        File.Delete(zip);
        return new QueryOutcome(version, null, sum, modSum, time);
    }

    /// <summary>A shallow copy of a crafted repository (its ls-remote over file://, depth-1 fetches into a scratch
    /// directory), as the mirror manager makes one while a mirror is being created.</summary>
    internal static ShallowClone Shallow(string bareDir, string scratchDir)
    {
        var runner = new GitRunner();
        runner.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        runner.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        string origin = "file://" + bareDir;
        string ls = TestGit.Run(null, "ls-remote", "--symref", origin, "HEAD", "refs/heads/*", "refs/tags/*");
        return new ShallowClone(scratchDir, Warren.Fetch.Direct.Git.GitMirrorManager.ParseLsRemote(ls),
            _ =>
            {
                TestGit.Run(null, "init", "--bare", "--quiet", scratchDir);
                TestGit.Run(null, "--git-dir=" + scratchDir, "config", "remote.origin.url", origin);
                return Task.CompletedTask;
            },
            (args, cancel) => runner.RunAsync(null, ["--git-dir=" + scratchDir, .. args], TimeSpan.FromMinutes(1), cancel),
            runner, TimeSpan.FromMinutes(1));
    }

    /// <summary>Compares every query and version list of a crafted repository with the go command; returns a report of
    /// the differences (empty when there are none) and the table of both sides. With shallowFirst, every query reads a
    /// shallow copy first (<see cref="ShallowFirstRepository"/>), the complete repository only when that cannot answer;
    /// ShallowOnly then names the queries answered without the complete repository.</summary>
    internal async Task<(List<string> Differences, string Table, List<string> ShallowOnly)> CompareAsync(string name, bool shallowFirst = false)
    {
        var repo = Repo(name);
        var diffs = new List<string>();
        var shallowOnly = new List<string>();
        var table = new StringBuilder();
        string scratch = TestPaths.NewTempDir("zips");
        using var shallow = shallowFirst ? Shallow(repo.BareDir, Path.Combine(scratch, "shallow.git")) : null;
        try
        {
            foreach (var (module, query) in repo.ResolvedQueries())
            {
                string key = module + "@" + query;
                Assert.True(Go.TryGetValue(key, out var go), $"go said nothing about {key}\n{GoLog}");
                ShallowFirstRepository? first = shallow is null ? null : new ShallowFirstRepository(shallow, _ => Task.FromResult<IGitRepository>(Local(repo.BareDir)));
                var ours = await OursAsync(new CodeRepo(first ?? (IGitRepository)Local(repo.BareDir), module, repo.Root), query, scratch);
                if (first is { UsedComplete: false })
                {
                    shallowOnly.Add(key);
                }
                table.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"{key}\n   go:   {go}\n   ours: {ours}");
                if (go.Error is null != (ours.Error is null))
                {
                    diffs.Add($"{key}: go {(go.Error is null ? "succeeded" : "failed")}, ours {(ours.Error is null ? "succeeded" : "failed")}");
                    continue;
                }

                if (go.Error is null)
                {
                    if (go.Version != ours.Version || go.Sum != ours.Sum || go.GoModSum != ours.GoModSum || go.Time != ours.Time)
                    {
                        diffs.Add($"{key}: differs");
                    }
                }
                else if (!SameError(go.Error, ours.Error!))
                {
                    diffs.Add($"{key}: error text differs");
                }
            }

            foreach (var module in repo.Modules)
            {
                Assert.True(GoLists.TryGetValue(module, out var goList), $"go list said nothing about {module}\n{GoLog}");
                var ours = await new CodeRepo(Local(repo.BareDir), module, repo.Root).ListAsync(CancellationToken.None);
                string oursText = ours.Ok ? string.Join(' ', ours.Value!) : "ERROR " + ours.Message;
                table.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"list {module}\n   go:   {string.Join(' ', goList.Versions)}{(goList.Error is null ? "" : " ERROR " + goList.Error)}\n   ours: {oursText}");
                if (!ours.Ok || !goList.Versions.SequenceEqual(ours.Value!))
                {
                    diffs.Add($"list {module}: differs");
                }
            }
        }
        finally
        {
            TestPaths.TryDeleteDirectory(scratch);
        }

        return (diffs, table.ToString(), shallowOnly);
    }

    /// <summary>The go command prints its errors with a "module@version: " prefix and wraps some of them; the text we
    /// produce must be the same or contain the go command's (or be contained in it).</summary>
    internal static bool SameError(string go, string ours)
    {
        go = go.Replace("\n", "; ", StringComparison.Ordinal);
        return go == ours || go.Contains(ours, StringComparison.Ordinal) || ours.Contains(go, StringComparison.Ordinal);
    }
}

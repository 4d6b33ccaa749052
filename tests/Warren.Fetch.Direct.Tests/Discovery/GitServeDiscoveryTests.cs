using System.Net;
using Warren.Fetch.Direct.Discovery;

namespace Warren.Fetch.Direct.Tests.Discovery;

/// <summary>The corpus git repositories (shared/corpus/git/make_git_repos.py) served by shared/corpus/git/git_serve.py
/// on 127.0.0.1, used as the HTTP proxy exactly as the end-to-end setup does.</summary>
public sealed class GitServeFixture : IAsyncLifetime
{
    private GitCorpusServer server = null!;

    public string WorkDir { get; } = TestPaths.NewTempDir("discovery-git");

    public string ReposDir => Path.Combine(WorkDir, "repos");

    public int Port => server.Port;

    public string Base => server.Url;

    public async Task InitializeAsync() => server = await GitCorpusServer.StartAsync(WorkDir);

    /// <summary>HTTP_PROXY/HTTPS_PROXY pointing at git_serve.py, loopback bypassed (NO_PROXY=127.0.0.1,localhost).</summary>
    public HttpClient ProxiedClient() => new(new SocketsHttpHandler
    {
        Proxy = new WebProxy(new Uri(Base), BypassOnLocal: true),
        UseProxy = true,
    });

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        TestPaths.TryDeleteDirectory(WorkDir);
    }
}

public class GitServeDiscoveryTests : IClassFixture<GitServeFixture>
{
    private const string GoInsecure = GitCorpusServer.GoInsecure;
    private readonly GitServeFixture serve;

    public GitServeDiscoveryTests(GitServeFixture serve)
    {
        this.serve = serve;
    }

    [Theory]
    [InlineData("golang.org/x/sync", "golang.org/x/sync")]
    [InlineData("golang.org/x/sync/errgroup", "golang.org/x/sync")]
    [InlineData("gopkg.in/yaml.v3", "gopkg.in/yaml.v3")]
    public async Task Meta_tag_hosts_resolve_to_the_served_repositories(string path, string root)
    {
        using HttpClient client = serve.ProxiedClient();
        var discovery = new RepoDiscovery(client, new RepoDiscoveryOptions { GoInsecure = GoInsecure });

        var (found, result) = await discovery.ResolveAsync(path, CancellationToken.None);

        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot(root, "git", $"{serve.Base}/{root}.git"), found);

        // The URL is a working git remote.
        var git = new GitRunner();
        git.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        git.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        GitRun run = await git.RunAsync(serve.WorkDir, ["ls-remote", found!.Url], TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.True(run.Ok, run.Stderr);
        Assert.Contains("refs/tags/v", run.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GitHub_paths_need_no_request()
    {
        using HttpClient client = serve.ProxiedClient();
        var discovery = new RepoDiscovery(client, new RepoDiscoveryOptions { GoInsecure = GoInsecure });
        var (found, _) = await discovery.ResolveAsync("github.com/ugorji/go/codec", CancellationToken.None);
        Assert.Equal(new RepoRoot("github.com/ugorji/go", "git", "https://github.com/ugorji/go"), found);
    }

    [Fact]
    public async Task Without_goinsecure_https_through_the_proxy_fails()
    {
        using HttpClient client = serve.ProxiedClient();
        var discovery = new RepoDiscovery(client);
        var (found, result) = await discovery.ResolveAsync("golang.org/x/sync", CancellationToken.None);
        Assert.Null(found);
        Assert.Equal(DirectStatus.Failed, result.Status);
        Assert.StartsWith("unrecognized import path \"golang.org/x/sync\": https fetch: Get \"https://golang.org/x/sync?go-get=1\": ", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Path_without_repository_is_not_found()
    {
        using HttpClient client = serve.ProxiedClient();
        var discovery = new RepoDiscovery(client, new RepoDiscoveryOptions { GoInsecure = "golang.org/x" });
        var (found, result) = await discovery.ResolveAsync("golang.org/x/nonexist", CancellationToken.None);
        Assert.Null(found);
        Assert.Equal(DirectStatus.NotFound, result.Status);
        Assert.StartsWith("unrecognized import path \"golang.org/x/nonexist\": reading http://golang.org/x/nonexist?go-get=1: 404 ", result.Message, StringComparison.Ordinal);
    }

    /// <summary>The go command, set up as shared/corpus/README.md describes, clones from the same URLs. Go 1.19 is
    /// required (WARREN_GO, default /usr/lib/go-1.19/bin/go): without it this test fails, saying how to provide it.</summary>
    [Fact]
    public async Task The_go_command_uses_the_same_repository_urls()
    {
        TestPaths.RequireGo();
        string home = Path.Combine(serve.WorkDir, "gohome-" + Guid.NewGuid().ToString("N")[..8]);
        var go = new GoRunner("direct", home)
            .WithGitConfig("/dev/null")
            .With("HTTP_PROXY", serve.Base)
            .With("HTTPS_PROXY", serve.Base)
            .With("NO_PROXY", "127.0.0.1,localhost")
            .With("GOINSECURE", GoInsecure);
        ProcessResult result = await go.RunAsync(home, "mod", "download", "-json", "golang.org/x/sync@v0.1.0", "gopkg.in/yaml.v3@v3.0.1");
        Assert.True(result.ExitCode == 0, result.Stderr);

        var git = new GitRunner();
        var goUrls = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string dir in Directory.GetDirectories(Path.Combine(go.ModCache, "cache", "vcs")))
        {
            GitRun run = await git.RunAsync(home, ["--git-dir=" + dir, "config", "remote.origin.url"], TimeSpan.FromSeconds(30), CancellationToken.None);
            goUrls.Add(run.StdoutText.Trim());
        }

        using HttpClient client = serve.ProxiedClient();
        var discovery = new RepoDiscovery(client, new RepoDiscoveryOptions { GoInsecure = GoInsecure });
        var ours = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string path in (string[])["golang.org/x/sync", "gopkg.in/yaml.v3"])
        {
            ours.Add((await discovery.ResolveAsync(path, CancellationToken.None)).Root!.Url);
        }

        Assert.Equal(2, goUrls.Count);
        Assert.Equal(goUrls, ours);
    }
}

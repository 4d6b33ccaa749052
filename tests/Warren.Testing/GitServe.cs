namespace Warren.Testing;

/// <summary>shared/corpus/git/git_serve.py on a free 127.0.0.1 port: bare repositories over git smart HTTP (git
/// http-backend), go-get discovery, and the same as an HTTP proxy for other hosts.</summary>
public sealed class GitServe : IAsyncDisposable, IDisposable
{
    private readonly BackgroundProcess _process;

    private GitServe(BackgroundProcess process, string reposDir, int port)
    {
        _process = process;
        ReposDir = reposDir;
        Port = port;
    }

    public string ReposDir { get; }

    public int Port { get; }

    /// <summary>http://127.0.0.1:port, without a trailing slash.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Starts git_serve.py on reposDir and returns once it accepts connections.</summary>
    public static async Task<GitServe> StartAsync(string reposDir)
    {
        var port = Loopback.FreePort();
        var process = BackgroundProcess.Start("python3", [TestPaths.GitServeScript, reposDir, port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await process.WaitForPortAsync(port).ConfigureAwait(false);
        return new GitServe(process, reposDir, port);
    }

    public void Dispose() => _process.Dispose();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>The corpus git repositories (shared/corpus/git/make_git_repos.py) served by git_serve.py, with the recipe of
/// shared/corpus/README.md: url.insteadOf for github.com, the server as HTTP proxy for go-get discovery of other hosts,
/// and GOINSECURE for those paths.</summary>
public sealed class GitCorpusServer : IAsyncDisposable
{
    /// <summary>The corpus paths whose go-get discovery needs plain http through the proxy.</summary>
    public const string GoInsecure = "golang.org/x/sync,gopkg.in/yaml.v3";

    private readonly GitServe _serve;

    private GitCorpusServer(GitServe serve, string dir)
    {
        _serve = serve;
        Directory = dir;
        GitConfig = TestGit.WriteGitHubInsteadOf(Path.Combine(dir, "gitconfig"), serve.Url);
    }

    /// <summary>The working directory: repos/ (the bare repositories) and gitconfig.</summary>
    public string Directory { get; }

    public string Repos => _serve.ReposDir;

    public int Port => _serve.Port;

    public string Url => _serve.Url;

    /// <summary>A git configuration file with the url.insteadOf rule for github.com.</summary>
    public string GitConfig { get; }

    /// <summary>Builds the corpus git repositories into dir/repos (from the corpus zips).</summary>
    public static Task BuildReposAsync(string dir) =>
        Processes.RunCheckedAsync("python3", null, Processes.BaseEnvironment(dir), TestPaths.MakeGitReposScript, TestPaths.Corpus, dir);

    public static async Task<GitCorpusServer> StartAsync(string? dir = null)
    {
        dir ??= TestPaths.NewTempDir("gitcorpus");
        await BuildReposAsync(dir).ConfigureAwait(false);
        var serve = await GitServe.StartAsync(Path.Combine(dir, "repos")).ConfigureAwait(false);
        return new GitCorpusServer(serve, dir);
    }

    /// <summary>A go client in direct mode set up with the whole recipe.</summary>
    public GoRunner DirectGo(string? home = null) => WithGitRecipe(new GoRunner("direct", home))
        .With("HTTP_PROXY", Url).With("HTTPS_PROXY", Url).With("NO_PROXY", "127.0.0.1,localhost").With("GOINSECURE", GoInsecure);

    /// <summary>The git part of the recipe, for any go client.</summary>
    public GoRunner WithGitRecipe(GoRunner go)
    {
        ArgumentNullException.ThrowIfNull(go);
        return go.WithGitConfig(GitConfig);
    }

    public ValueTask DisposeAsync() => _serve.DisposeAsync();
}

using System.Diagnostics;

namespace Warren.Server.Tests.Infrastructure;

/// <summary>The corpus git repositories (shared/corpus/git/make_git_repos.py) served on 127.0.0.1 by git_serve.py,
/// with the recipe of shared/corpus/README.md: url.insteadOf for github.com, the server as HTTP proxy for go-get
/// discovery of other hosts, and GOINSECURE for those paths.</summary>
public sealed class GitCorpusServer : IAsyncDisposable
{
    public const string GoInsecure = "golang.org/x/sync,gopkg.in/yaml.v3";

    private readonly Process _server;

    private GitCorpusServer(Process server, string dir, int port)
    {
        _server = server;
        Directory = dir;
        Port = port;
        Url = $"http://127.0.0.1:{port}";
        GitConfig = Path.Combine(dir, "gitconfig");
        File.WriteAllText(GitConfig, $"[url \"{Url}/github.com/\"]\n\tinsteadOf = https://github.com/\n");
    }

    public string Directory { get; }

    public string Repos => Path.Combine(Directory, "repos");

    public int Port { get; }

    public string Url { get; }

    public string GitConfig { get; }

    public static async Task<GitCorpusServer> StartAsync()
    {
        var dir = TestPaths.NewTempDir("gitcorpus");
        await RunAsync("python3", Path.Combine(TestPaths.Shared, "corpus", "git", "make_git_repos.py"), TestPaths.Corpus, dir);
        var port = UpstreamChainTests.FreePort();
        var psi = new ProcessStartInfo("python3") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(TestPaths.Shared, "corpus", "git", "git_serve.py"));
        psi.ArgumentList.Add(Path.Combine(dir, "repos"));
        psi.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var server = Process.Start(psi)!;
        server.ErrorDataReceived += (_, _) => { };
        server.OutputDataReceived += (_, _) => { };
        server.BeginErrorReadLine();
        server.BeginOutputReadLine();
        using var client = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var r = await client.GetAsync($"http://127.0.0.1:{port}/golang.org/x/sync?go-get=1");
                if (r.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        return new GitCorpusServer(server, dir, port);
    }

    /// <summary>A go client in direct mode set up with the recipe.</summary>
    public GoRunner DirectGo() => WithGitRecipe(new GoRunner("direct"))
        .With("HTTP_PROXY", Url).With("HTTPS_PROXY", Url).With("NO_PROXY", "127.0.0.1,localhost").With("GOINSECURE", GoInsecure);

    /// <summary>The git part of the recipe, for any go client.</summary>
    public GoRunner WithGitRecipe(GoRunner go) => go.With("GIT_CONFIG_GLOBAL", GitConfig).With("GIT_CONFIG_NOSYSTEM", "1").With("GIT_TERMINAL_PROMPT", "0");

    internal static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {await stderr}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_server.HasExited)
        {
            _server.Kill();
            await _server.WaitForExitAsync();
        }

        _server.Dispose();
    }
}

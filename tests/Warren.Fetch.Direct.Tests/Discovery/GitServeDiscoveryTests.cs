using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Warren.Fetch.Direct.Discovery;

namespace Warren.Fetch.Direct.Tests.Discovery;

/// <summary>The corpus git repositories (shared/corpus/git/make_git_repos.py) served by shared/corpus/git/git_serve.py
/// on 127.0.0.1, used as the HTTP proxy exactly as the end-to-end setup does.</summary>
public sealed class GitServeFixture : IAsyncLifetime
{
    private Process? server;

    public string WorkDir { get; } = DiscoveryTestPaths.NewTempDir("discovery-git");

    public string ReposDir => Path.Combine(WorkDir, "repos");

    public int Port { get; private set; }

    public string Base => $"http://127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        string gitDir = Path.Combine(DiscoveryTestPaths.Shared, "corpus", "git");
        Assert.True(File.Exists(Path.Combine(gitDir, "git_serve.py")), $"git_serve.py not found under {gitDir} (set WARREN_SHARED)");
        Assert.True(Directory.Exists(DiscoveryTestPaths.Corpus), $"corpus not found at {DiscoveryTestPaths.Corpus} (set WARREN_CORPUS_DIR)");

        var make = Process.Start(Python(Path.Combine(gitDir, "make_git_repos.py"), DiscoveryTestPaths.Corpus, WorkDir))!;
        string makeErrors = await make.StandardError.ReadToEndAsync();
        await make.StandardOutput.ReadToEndAsync();
        await make.WaitForExitAsync();
        Assert.True(make.ExitCode == 0, "make_git_repos.py failed: " + makeErrors);

        Port = DiscoveryTestPaths.FreePort();
        server = Process.Start(Python(Path.Combine(gitDir, "git_serve.py"), ReposDir, Port.ToString(System.Globalization.CultureInfo.InvariantCulture)))!;
        server.ErrorDataReceived += (_, _) => { };
        server.OutputDataReceived += (_, _) => { };
        server.BeginErrorReadLine();
        server.BeginOutputReadLine();
        for (int i = 0; ; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                break;
            }
            catch (SocketException) when (i < 100 && !server.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    private static ProcessStartInfo Python(params string[] args)
    {
        var psi = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    /// <summary>HTTP_PROXY/HTTPS_PROXY pointing at git_serve.py, loopback bypassed (NO_PROXY=127.0.0.1,localhost).</summary>
    public HttpClient ProxiedClient() => new(new SocketsHttpHandler
    {
        Proxy = new WebProxy(new Uri(Base), BypassOnLocal: true),
        UseProxy = true,
    });

    public async Task DisposeAsync()
    {
        if (server is { HasExited: false })
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }

        server?.Dispose();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

public class GitServeDiscoveryTests : IClassFixture<GitServeFixture>
{
    private const string GoInsecure = "golang.org/x/sync,gopkg.in/yaml.v3";
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

    /// <summary>The go command, set up as shared/corpus/README.md describes, clones from the same URLs. Runs only when
    /// Go 1.19 is installed (WARREN_GO, default /usr/lib/go-1.19/bin/go).</summary>
    [Fact]
    public async Task The_go_command_uses_the_same_repository_urls()
    {
        string go = Environment.GetEnvironmentVariable("WARREN_GO") is { Length: > 0 } g ? g : "/usr/lib/go-1.19/bin/go";
        if (!File.Exists(go))
        {
            return;
        }

        string home = Path.Combine(serve.WorkDir, "gohome-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(home);
        var psi = new ProcessStartInfo(go)
        {
            WorkingDirectory = home,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])["mod", "download", "-json", "golang.org/x/sync@v0.1.0", "gopkg.in/yaml.v3@v3.0.1"])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Clear();
        psi.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        psi.Environment["HOME"] = home;
        psi.Environment["GOCACHE"] = Path.Combine(home, "cache");
        psi.Environment["GOMODCACHE"] = Path.Combine(home, "mod");
        psi.Environment["GOPATH"] = Path.Combine(home, "gopath");
        psi.Environment["GOPROXY"] = "direct";
        psi.Environment["GOSUMDB"] = "off";
        psi.Environment["GONOSUMDB"] = "*";
        psi.Environment["GOFLAGS"] = "-mod=mod";
        psi.Environment["GOTOOLCHAIN"] = "local";
        psi.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["HTTP_PROXY"] = serve.Base;
        psi.Environment["HTTPS_PROXY"] = serve.Base;
        psi.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        psi.Environment["GOINSECURE"] = GoInsecure;
        try
        {
            await CompareAsync(psi, home);
        }
        finally
        {
            MakeWritable(home);
        }
    }

    private async Task CompareAsync(ProcessStartInfo psi, string home)
    {
        using var process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        await stdout;
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, stderr);

        var git = new GitRunner();
        var goUrls = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string dir in Directory.GetDirectories(Path.Combine(home, "mod", "cache", "vcs")))
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

    // The module cache is read-only; let the fixture delete it.
    private static void MakeWritable(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (string path in Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserWrite);
        }
    }
}

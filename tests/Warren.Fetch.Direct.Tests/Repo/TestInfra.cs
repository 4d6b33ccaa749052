using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>Where the real go client, the shared folder and the corpus are.</summary>
internal static class DirectTestPaths
{
    public static string Go => Environment.GetEnvironmentVariable("WARREN_GO") is { Length: > 0 } go ? go : "/usr/lib/go-1.19/bin/go";

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>WARREN_SHARED, else the "shared" folder beside the repository root.</summary>
    public static string Shared => Environment.GetEnvironmentVariable("WARREN_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>WARREN_CORPUS_DIR, else /tmp/corpus-out; a missing corpus is a failure with instructions.</summary>
    public static string Corpus
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("WARREN_CORPUS_DIR") is { Length: > 0 } d ? d : "/tmp/corpus-out";
            Assert.True(Directory.Exists(dir) && File.Exists(Path.Combine(dir, "corpus-manifest.tsv")),
                $"GOPROXY corpus not found at {dir}: build it with {Shared}/corpus/regen.sh (or scripts/test.sh), or set WARREN_CORPUS_DIR.");
            return dir;
        }
    }

    public static string GitServeScript => RequireFile(Path.Combine(Shared, "corpus", "git", "git_serve.py"));

    public static string MakeGitReposScript => RequireFile(Path.Combine(Shared, "corpus", "git", "make_git_repos.py"));

    public static string DirectResults => RequireFile(Path.Combine(Shared, "corpus", "git", "direct-results.txt"));

    public static string RequireGo()
    {
        Assert.True(File.Exists(Go), $"the real go command is needed at {Go} (Debian: apt-get install golang-1.19-go; or set WARREN_GO)");
        return Go;
    }

    private static string RequireFile(string path)
    {
        Assert.True(File.Exists(path), $"{path} not found (set WARREN_SHARED to the shared folder)");
        return path;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Warren.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Warren.sln not found above " + AppContext.BaseDirectory);
    }

    public static string NewTempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "warren-tests", prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void TryDeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                // The module cache is read-only.
                foreach (var d in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories))
                {
                    if (OperatingSystem.IsWindows())
                    {
                        break;
                    }

                    File.SetUnixFileMode(d, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }

                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs a program with a clean environment.</summary>
internal static class Processes
{
    public static async Task<ProcessResult> RunAsync(string program, string? workDir, IReadOnlyDictionary<string, string> env, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workDir is not null)
        {
            psi.WorkingDirectory = workDir;
        }

        psi.Environment.Clear();
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(program + " " + string.Join(' ', psi.ArgumentList) + " did not finish in time");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    public static Dictionary<string, string> BaseEnvironment(string home) => new(StringComparer.Ordinal)
    {
        ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
        ["HOME"] = home,
        ["LC_ALL"] = "C",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["GIT_TERMINAL_PROMPT"] = "0",
    };

    /// <summary>The objects of a `go ... -json` stream.</summary>
    public static List<JsonElement> JsonStream(string text)
    {
        var list = new List<JsonElement>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            list.Add(doc.RootElement.Clone());
        }

        return list;
    }
}

/// <summary>shared/corpus/git/git_serve.py on a free 127.0.0.1 port, serving bare repositories to the go command.</summary>
internal sealed class GitServer : IAsyncDisposable
{
    private readonly Process _process;

    private GitServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<GitServer> StartAsync(string reposDir, string probeRepo)
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        var psi = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DirectTestPaths.GitServeScript);
        psi.ArgumentList.Add(reposDir);
        psi.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new GitServer(process, port);
        var env = Processes.BaseEnvironment(Path.GetTempPath());
        for (int i = 0; i < 100; i++)
        {
            var r = await Processes.RunAsync("git", null, env, ["-c", "http.proxy=", "ls-remote", $"http://127.0.0.1:{port}/{probeRepo}.git"]);
            if (r.ExitCode == 0)
            {
                return server;
            }

            await Task.Delay(100);
        }

        await server.DisposeAsync();
        throw new InvalidOperationException("git_serve.py did not start");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}

/// <summary>The real go command in direct mode against git_serve.py (the recipe of shared/corpus/README.md).</summary>
internal sealed class GoDirect
{
    private readonly Dictionary<string, string> _env;

    public GoDirect(string home, int port)
    {
        Home = home;
        Directory.CreateDirectory(home);
        ModCache = Path.Combine(home, "modcache");
        string gitconfig = Path.Combine(home, "gitconfig");
        File.WriteAllText(gitconfig, $"[url \"http://127.0.0.1:{port}/github.com/\"]\n\tinsteadOf = https://github.com/\n");
        WorkDir = Path.Combine(home, "work");
        Directory.CreateDirectory(WorkDir);
        _env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = Path.GetDirectoryName(DirectTestPaths.RequireGo()) + ":/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = home,
            ["GOENV"] = "off",
            ["GO111MODULE"] = "on",
            ["GOPROXY"] = "direct",
            ["GOSUMDB"] = "off",
            ["GONOSUMDB"] = "*",
            ["GOFLAGS"] = "-mod=mod",
            ["GOMODCACHE"] = ModCache,
            ["GOCACHE"] = Path.Combine(home, "gocache"),
            ["GOPATH"] = Path.Combine(home, "gopath"),
            ["GOTOOLCHAIN"] = "local",
            ["CGO_ENABLED"] = "0",
            ["GIT_CONFIG_GLOBAL"] = gitconfig,
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_TERMINAL_PROMPT"] = "0",
            ["NO_PROXY"] = "127.0.0.1,localhost",
        };
    }

    public string Home { get; }

    public string ModCache { get; }

    public string WorkDir { get; }

    public Task<ProcessResult> RunAsync(params string[] args) => Processes.RunAsync(DirectTestPaths.Go, WorkDir, _env, args, timeout: TimeSpan.FromMinutes(5));
}

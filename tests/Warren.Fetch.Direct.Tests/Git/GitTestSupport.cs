using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Warren.Fetch.Direct.Tests.Git;

/// <summary>Paths, a synchronous git for building upstream repositories, and scratch directories.</summary>
internal static class GitTestSupport
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The shared folder beside the repository (WARREN_SHARED overrides).</summary>
    public static string Shared => Environment.GetEnvironmentVariable("WARREN_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string GitServeScript
    {
        get
        {
            var script = Path.Combine(Shared, "corpus", "git", "git_serve.py");
            return File.Exists(script) ? script : throw new InvalidOperationException($"{script} not found: set WARREN_SHARED to the shared folder");
        }
    }

    public static string NewTempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "warren-tests", prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Runs git for test fixtures (without the user's configuration); throws on failure.</summary>
    public static string Git(string? workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["GIT_AUTHOR_NAME"] = "Test";
        psi.Environment["GIT_AUTHOR_EMAIL"] = "test@example.com";
        psi.Environment["GIT_COMMITTER_NAME"] = "Test";
        psi.Environment["GIT_COMMITTER_EMAIL"] = "test@example.com";
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', args)}: exit {p.ExitCode}: {stderr.Result}");
        }

        return stdout.Trim();
    }

    /// <summary>An upstream bare repository (reposDir/relativePath) with a work tree to commit from.</summary>
    public static UpstreamRepo CreateUpstream(string reposDir, string relativePath)
    {
        var bare = Path.Combine(reposDir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(bare)!);
        Git(null, "init", "--bare", "--quiet", "--initial-branch=main", bare);
        var work = bare + ".work";
        Git(null, "init", "--quiet", "--initial-branch=main", work);
        Git(work, "remote", "add", "origin", bare);
        return new UpstreamRepo(bare, work);
    }

    /// <summary>The inode number of a path (stat -c %i): unchanged while the directory is not replaced.</summary>
    public static string InodeOf(string path)
    {
        var psi = new ProcessStartInfo("stat") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("%i");
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return output;
    }

    /// <summary>Lists /proc/*/cmdline (NUL-separated arguments joined by spaces); processes that vanish are skipped.</summary>
    public static List<string> ProcessCommandLines() => [.. ProcessCommandLinesWithIds().Select(p => p.CommandLine)];

    /// <summary>The environment block of a process (readable for the same user only), or "" when it is gone.</summary>
    public static string ProcessEnvironment(int pid)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ")).Replace('\0', '\n');
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    public static List<(int Pid, string CommandLine)> ProcessCommandLinesWithIds()
    {
        var list = new List<(int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var bytes = File.ReadAllBytes(Path.Combine(dir, "cmdline"));
                if (bytes.Length > 0)
                {
                    list.Add((pid, Encoding.UTF8.GetString(bytes).Replace('\0', ' ')));
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return list;
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
}

internal sealed class UpstreamRepo(string bare, string work)
{
    private int _n;

    public string Bare { get; } = bare;

    public string Work { get; } = work;

    /// <summary>Commits a new file on the current branch and pushes it (and all tags).</summary>
    public string Commit(string message, string? tag = null, bool annotated = false, string branch = "main")
    {
        _n++;
        File.WriteAllText(Path.Combine(Work, $"file{_n}.txt"), message + "\n");
        GitTestSupport.Git(Work, "add", "-A");
        GitTestSupport.Git(Work, "commit", "--quiet", "-m", message);
        if (tag is not null)
        {
            if (annotated)
            {
                GitTestSupport.Git(Work, "tag", "-a", tag, "-m", tag);
            }
            else
            {
                GitTestSupport.Git(Work, "tag", tag);
            }
        }

        GitTestSupport.Git(Work, "push", "--quiet", "--tags", "origin", "HEAD:refs/heads/" + branch);
        return GitTestSupport.Git(Work, "rev-parse", "HEAD");
    }
}

/// <summary>The shared corpus server (git_serve.py: git smart HTTP through git http-backend, and HTTP proxy requests)
/// on a free loopback port.</summary>
internal sealed class GitServe : IDisposable
{
    private readonly Process _process;

    private GitServe(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public static GitServe Start(string reposDir)
    {
        var port = GitTestSupport.FreePort();
        var psi = new ProcessStartInfo("python3")
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.ArgumentList.Add(GitTestSupport.GitServeScript);
        psi.ArgumentList.Add(reposDir);
        psi.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !p.HasExited)
            {
                Thread.Sleep(50);
            }
        }

        return new GitServe(p, port);
    }

    public void Dispose()
    {
        try
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}

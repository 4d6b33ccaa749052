using System.Collections.Concurrent;
using System.Text;

namespace Warren.Testing;

/// <summary>What /proc shows of the running processes (Linux), to check that no secret is visible to other users.</summary>
public static class ProcFs
{
    /// <summary>Every process's command line (NUL-separated arguments joined by spaces); processes that vanish are skipped.</summary>
    public static List<string> CommandLines() => [.. CommandLinesWithIds().Select(p => p.CommandLine)];

    public static List<(int Pid, string CommandLine)> CommandLinesWithIds()
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

    /// <summary>Runs the operation while polling every process's command line over and over. The scan lists the command
    /// lines holding <paramref name="secret"/> (leaks) and those of git processes; with <paramref name="remoteHttpEnvironmentProbe"/>
    /// it also tells whether a git remote-http process was caught with that text in its environment (a control that the
    /// scan ran while the secret was in use).</summary>
    public static async Task<(T Result, ProcessScan Scan)> ScanWhileAsync<T>(string secret, Func<Task<T>> operation, string? remoteHttpEnvironmentProbe = null)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var git = new ConcurrentDictionary<string, bool>();
        var leaks = new ConcurrentBag<string>();
        var probeSeen = 0;
        using var stop = new CancellationTokenSource();
        var scanner = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var (pid, cmd) in CommandLinesWithIds())
                {
                    if (cmd.Contains(secret, StringComparison.Ordinal))
                    {
                        leaks.Add(cmd);
                    }

                    if (remoteHttpEnvironmentProbe is not null && cmd.Contains("remote-http", StringComparison.Ordinal)
                        && Environment(pid).Contains(remoteHttpEnvironmentProbe, StringComparison.Ordinal))
                    {
                        Interlocked.Exchange(ref probeSeen, 1);
                    }

                    if (cmd.Contains("git", StringComparison.Ordinal) || cmd.Contains("WARREN_GIT", StringComparison.Ordinal))
                    {
                        git.TryAdd(cmd, true);
                    }
                }
            }
        });
        T result;
        try
        {
            result = await operation().ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await scanner.ConfigureAwait(false);
        }

        return (result, new ProcessScan([.. leaks], [.. git.Keys], probeSeen == 1));
    }

    /// <summary>The environment block of a process (readable for the same user only), one variable a line, or "" when it is gone.</summary>
    public static string Environment(int pid)
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
}

/// <summary>What <see cref="ProcFs.ScanWhileAsync"/> saw: command lines holding the secret, git command lines, and whether
/// the environment probe was found in a git remote-http process.</summary>
public sealed record ProcessScan(IReadOnlyList<string> Leaks, IReadOnlyList<string> GitCommandLines, bool EnvironmentProbeSeen);

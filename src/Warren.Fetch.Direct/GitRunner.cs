using System.Diagnostics;
using System.Text;

namespace Warren.Fetch.Direct;

/// <summary>The outcome of one git invocation.</summary>
public sealed record GitRun(int ExitCode, byte[] Stdout, string Stderr, bool TimedOut)
{
    public bool Ok => ExitCode == 0 && !TimedOut;

    public string StdoutText => Encoding.UTF8.GetString(Stdout);
}

/// <summary>Runs the git CLI: arguments as a list (never through a shell), no terminal prompts, a time limit, and an
/// environment that callers extend (credentials travel in the environment or files, never in arguments).</summary>
public class GitRunner
{
    public GitRunner(string gitPath = "git")
    {
        GitPath = gitPath;
    }

    public string GitPath { get; }

    /// <summary>A process-wide limit on git processes running at once (null: none); waiting for a slot respects cancellation.</summary>
    public Warren.Core.Limits.ConcurrencyGate? ProcessGate { get; set; }

    /// <summary>Extra environment for every invocation (e.g. GIT_CONFIG_GLOBAL, HTTP proxy variables).</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Variables of this process's environment that git children do not inherit (applied before
    /// <see cref="Environment"/> and the per-call environment, which may set them again).</summary>
    public ISet<string> RemovedEnvironment { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The clock of the time limit of each invocation.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Standard output kept in memory is cut off here: the process is killed and the run fails (exit code -1,
    /// a one-line stderr), so no repository can make Warren hold an unbounded answer. Large outputs go to a file.</summary>
    public long MaxOutputBytes { get; set; } = 64L << 20;

    /// <summary>Runs git in workingDirectory (or null) with args; stdout to memory, or streamed to stdoutFile when given.</summary>
    public virtual async Task<GitRun> RunAsync(string? workingDirectory, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken,
        string? stdoutFile = null, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        using var activity = Warren.Core.Diagnostics.WarrenActivity.Source.StartActivity(Warren.Core.Diagnostics.WarrenActivity.Git);
        activity?.SetTag("warren.git.command", args.FirstOrDefault(a => !a.StartsWith('-')));
        var psi = new ProcessStartInfo(GitPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var k in RemovedEnvironment)
        {
            psi.Environment.Remove(k);
        }

        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GCM_INTERACTIVE"] = "never";
        psi.Environment["LC_ALL"] = "C";
        foreach (var (k, v) in Environment)
        {
            psi.Environment[k] = v;
        }

        if (extraEnvironment is not null)
        {
            foreach (var (k, v) in extraEnvironment)
            {
                psi.Environment[k] = v;
            }
        }

        using var slot = ProcessGate is { } gate ? await gate.EnterAsync(cancellationToken).ConfigureAwait(false) : null;
        using var process = new Process { StartInfo = psi };
        process.Start();
        process.StandardInput.Close();
        using var timer = new Warren.Core.Limits.Deadline(timeout, TimeProvider, cancellationToken);
        var stderrTask = process.StandardError.ReadToEndAsync(timer.Token);
        byte[] stdout = [];
        var timedOut = false;
        var tooLarge = false;
        try
        {
            if (stdoutFile is not null)
            {
                await using var file = new FileStream(stdoutFile, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                await process.StandardOutput.BaseStream.CopyToAsync(file, timer.Token).ConfigureAwait(false);
            }
            else
            {
                using var ms = new MemoryStream();
                var buffer = new byte[81920];
                int n;
                while ((n = await process.StandardOutput.BaseStream.ReadAsync(buffer, timer.Token).ConfigureAwait(false)) > 0)
                {
                    if (ms.Length + n > MaxOutputBytes)
                    {
                        tooLarge = true;
                        break;
                    }

                    ms.Write(buffer, 0, n);
                }

                if (tooLarge)
                {
                    Kill(process);
                }
                else
                {
                    stdout = ms.ToArray();
                }
            }

            await process.WaitForExitAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            cancellationToken.ThrowIfCancellationRequested();
            timedOut = true;
        }

        string stderr;
        try
        {
            stderr = await stderrTask.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            stderr = "";
        }

        if (tooLarge)
        {
            return new GitRun(-1, [], $"fatal: git output exceeds {MaxOutputBytes} bytes", false);
        }

        return new GitRun(timedOut ? -1 : process.ExitCode, stdout, stderr, timedOut);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }
}

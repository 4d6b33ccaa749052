using System.Diagnostics;

namespace Warren.Testing;

/// <summary>What a finished program printed and returned.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs programs for tests: with exactly the environment given, or with this process's environment.</summary>
public static class Processes
{
    /// <summary>Runs a program to completion. With <paramref name="env"/> the environment is exactly that; without it,
    /// this process's environment is inherited. Killed (and a <see cref="TimeoutException"/>) after the timeout (5 minutes).</summary>
    public static async Task<ProcessResult> RunAsync(string program, string? workDir, IReadOnlyDictionary<string, string>? env, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null)
    {
        var psi = StartInfo(program, workDir, args);
        psi.RedirectStandardInput = true;
        if (env is not null)
        {
            psi.Environment.Clear();
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
        }

        process.StandardInput.Close();
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', psi.ArgumentList)} did not finish in {limit}");
        }

        return new ProcessResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Like <see cref="RunAsync"/> (inheriting this process's environment unless one is given), but a non-zero exit is an exception.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(string program, string? workDir, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var result = await RunAsync(program, workDir, env, args).ConfigureAwait(false);
        return result.ExitCode == 0
            ? result
            : throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {result}");
    }

    /// <summary>The synchronous <see cref="RunCheckedAsync"/>, for fixtures built in constructors.</summary>
    public static ProcessResult RunChecked(string program, string? workDir, IReadOnlyDictionary<string, string>? env, params string[] args) =>
        RunCheckedAsync(program, workDir, env, args).GetAwaiter().GetResult();

    /// <summary>A start for a program with its output redirected (and not shell-executed).</summary>
    internal static ProcessStartInfo StartInfo(string program, string? workDir, IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workDir is not null)
        {
            psi.WorkingDirectory = workDir;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    /// <summary>A minimal environment for git and python: no user or system git configuration, no prompts, C locale.</summary>
    public static Dictionary<string, string> BaseEnvironment(string home) => new(StringComparer.Ordinal)
    {
        ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
        ["HOME"] = home,
        ["LC_ALL"] = "C",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["GIT_TERMINAL_PROMPT"] = "0",
    };
}

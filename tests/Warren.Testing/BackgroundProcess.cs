using System.Collections.Concurrent;
using System.Diagnostics;

namespace Warren.Testing;

/// <summary>A long-running child process (a server) whose output is drained and kept, killed with SIGKILL on dispose.</summary>
public sealed class BackgroundProcess : IDisposable, IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private BackgroundProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What it printed so far (stdout and stderr interleaved), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts a program with this process's environment plus <paramref name="env"/>.</summary>
    public static BackgroundProcess Start(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, string? workDir = null)
    {
        var psi = Processes.StartInfo(program, workDir, args);
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var self = new BackgroundProcess(Process.Start(psi)!);
        self._process.OutputDataReceived += (_, e) => self.Keep(e.Data);
        self._process.ErrorDataReceived += (_, e) => self.Keep(e.Data);
        self._process.BeginOutputReadLine();
        self._process.BeginErrorReadLine();
        return self;
    }

    /// <summary>Waits until the process accepts connections on 127.0.0.1:port; an exception (with its output) if it exits or takes too long.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan? timeout = null)
    {
        if (!await Loopback.WaitForListenerAsync(port, () => !_process.HasExited, timeout ?? TimeSpan.FromSeconds(15)).ConfigureAwait(false))
        {
            var what = _process.HasExited ? $"exited with {_process.ExitCode}" : "is not listening";
            Kill();
            throw new InvalidOperationException($"{_process.StartInfo.FileName} {string.Join(' ', _process.StartInfo.ArgumentList)} {what} on port {port}:\n{Output}");
        }
    }

    /// <summary>SIGKILL (the whole tree): no shutdown code runs.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }
}

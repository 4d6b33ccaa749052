using System.Diagnostics;
using Warren.Protocol.GoProxy;

namespace Warren.Tools.Doctor;

/// <summary>The outcome of one GET: a status (and the body for small answers) or the class of the error, and the latency.</summary>
internal sealed record Probe(string Url, int? Status, byte[]? Body, string? Error, TimeSpan Latency)
{
    public bool IsNotFound => Status is 404 or 410;

    public bool IsOk => Status is >= 200 and < 300;

    /// <summary>"answers 200 in 3 ms" or "connection refused after 1 ms (…)".</summary>
    public string Describe() => Status is { } s ? $"answers {s} in {DoctorRunner.Ms(Latency)}" : $"{Error} after {DoctorRunner.Ms(Latency)}";
}

/// <summary>GET with a per-request timeout through the <see cref="GoProxyClient"/>, classifying failures the way
/// people diagnose them.</summary>
internal sealed class Http(HttpClient client, TimeSpan timeout, TimeProvider time)
{
    private const int MaxBody = 1 << 20;

    private readonly GoProxyClient _client = new(client, new GoProxyClientOptions { RequestTimeout = timeout, Time = time });

    public TimeSpan Timeout => timeout;

    public async Task<Probe> GetAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return new Probe(url, null, null, "invalid URL", TimeSpan.Zero);
        }

        var (result, body) = await _client.GetBytesAsync(uri, MaxBody, cancellationToken, new GoProxyRequest(Configured: false)).ConfigureAwait(false);
        return result.Failure switch
        {
            ProxyFailure.None or ProxyFailure.Status or ProxyFailure.TooLarge or ProxyFailure.Truncated when result.HttpStatus is { } status =>
                new Probe(url, status, body, null, result.Elapsed),
            ProxyFailure.Timeout => new Probe(url, null, null, $"timeout (no answer within {timeout.TotalSeconds:0.#} s)", result.Elapsed),
            _ => new Probe(url, null, null, result.Cause ?? result.Reason, result.Elapsed),
        };
    }
}

/// <summary>Runs a program with a timeout, capturing its output.</summary>
internal static class Run
{
    public static async Task<(int ExitCode, string Stdout, string Stderr, bool TimedOut)> ProcessAsync(string program, IEnumerable<string> args,
        IReadOnlyDictionary<string, string?> environment, string? workDir, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        if (workDir is not null && Directory.Exists(workDir))
        {
            start.WorkingDirectory = workDir;
        }

        start.Environment.Clear();
        foreach (var (k, v) in environment)
        {
            if (v is not null)
            {
                start.Environment[k] = v;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var cts = new Warren.Core.Limits.Deadline(timeout, time, cancellationToken);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            timedOut = true;
        }

        return (timedOut ? -1 : process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), timedOut);
    }
}

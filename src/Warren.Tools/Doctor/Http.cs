using System.Diagnostics;
using System.Net.Http;
using System.Net.Sockets;

namespace Warren.Tools.Doctor;

/// <summary>The outcome of one GET: a status (and the body for small answers) or the class of the error, and the latency.</summary>
internal sealed record Probe(string Url, int? Status, byte[]? Body, string? Error, TimeSpan Latency)
{
    public bool IsNotFound => Status is 404 or 410;

    public bool IsOk => Status is >= 200 and < 300;

    /// <summary>"answers 200 in 3 ms" or "connection refused after 1 ms (…)".</summary>
    public string Describe() => Status is { } s ? $"answers {s} in {DoctorRunner.Ms(Latency)}" : $"{Error} after {DoctorRunner.Ms(Latency)}";
}

/// <summary>GET with a per-request timeout, classifying failures the way people diagnose them.</summary>
internal sealed class Http(HttpClient client, TimeSpan timeout, TimeProvider time)
{
    private const int MaxBody = 1 << 20;

    public TimeSpan Timeout => timeout;

    public async Task<Probe> GetAsync(string url, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        using var cts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cts.Token, cancellationToken);
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            byte[]? body = null;
            if (response.Content.Headers.ContentLength is null or <= MaxBody)
            {
                body = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            }

            return new Probe(url, (int)response.StatusCode, body, null, time.GetElapsedTime(start));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Probe(url, null, null, $"timeout (no answer within {timeout.TotalSeconds:0.#} s)", time.GetElapsedTime(start));
        }
        catch (HttpRequestException e)
        {
            return new Probe(url, null, null, Classify(e), time.GetElapsedTime(start));
        }
    }

    private static string Classify(HttpRequestException e)
    {
        var socket = FindInner<SocketException>(e);
        var kind = e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "DNS lookup failed",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.ProxyTunnelError => "outbound proxy tunnel failed",
            HttpRequestError.ConnectionError when socket?.SocketErrorCode == SocketError.ConnectionRefused => "connection refused",
            HttpRequestError.ConnectionError => "connection failed",
            _ => "request failed",
        };
        var detail = socket?.Message ?? e.InnerException?.Message ?? e.Message;
        return detail.Equals(kind, StringComparison.OrdinalIgnoreCase) ? kind : $"{kind} ({detail})";
    }

    private static T? FindInner<T>(Exception e)
        where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is T t)
            {
                return t;
            }
        }

        return null;
    }
}

/// <summary>Runs a program with a timeout, capturing its output.</summary>
internal static class Run
{
    public static async Task<(int ExitCode, string Stdout, string Stderr, bool TimedOut)> ProcessAsync(string program, IEnumerable<string> args,
        IReadOnlyDictionary<string, string?> environment, string? workDir, TimeSpan timeout, CancellationToken cancellationToken)
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
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
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

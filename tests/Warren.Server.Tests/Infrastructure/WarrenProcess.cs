namespace Warren.Server.Tests.Infrastructure;

/// <summary>`warren serve` as a separate process, so it can be killed with SIGKILL.</summary>
public sealed class WarrenProcess : IDisposable
{
    private readonly BackgroundProcess _process;

    private WarrenProcess(BackgroundProcess process, string url)
    {
        _process = process;
        Url = url;
    }

    /// <summary>warren.dll, built beside the tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "warren.dll");

    public string Url { get; }

    /// <summary>The server's process id.</summary>
    public int Pid => _process.Id;

    /// <summary>What the process printed so far (stdout and stderr interleaved).</summary>
    public string Output => _process.Output;

    public static Task<WarrenProcess> StartAsync(string root, string upstream, params string[] extra) => StartAsync(root, upstream, null, extra);

    /// <summary>Starts `warren serve` with this process's environment plus env.</summary>
    public static async Task<WarrenProcess> StartAsync(string root, string upstream, IReadOnlyDictionary<string, string>? env, params string[] extra)
    {
        var port = Loopback.FreePort();
        var process = BackgroundProcess.Start("dotnet", [Dll, "serve", "--listen", $"127.0.0.1:{port}", "--root", root, "--upstream", upstream, "--sumdb", "off", "--private", "", .. (extra.Contains("--vulndb") ? [] : new[] { "--vulndb", "off" }), .. extra], env);
        var url = $"http://127.0.0.1:{port}";
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 200; i++)
        {
            try
            {
                if ((await client.GetAsync(url + "/healthz")).IsSuccessStatusCode)
                {
                    return new WarrenProcess(process, url);
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"warren serve exited with {process.ExitCode}:\n{process.Output}");
            }

            await Task.Delay(100);
        }

        process.Dispose();
        throw new TimeoutException("warren serve did not become healthy");
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}

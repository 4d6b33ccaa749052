using Microsoft.AspNetCore.Http;

namespace Warren.Deploy.Tests;

/// <summary>deploy/healthcheck.sh, the image's HEALTHCHECK, run on the host against servers on 127.0.0.1.</summary>
public sealed class HealthcheckTests
{
    private static readonly string Script = Path.Combine(TestPaths.RepoRoot, "deploy", "healthcheck.sh");

    [Fact]
    public async Task The_check_passes_only_when_healthz_answers_200()
    {
        var status = StatusCodes.Status200OK;
        var paths = new List<string>();
        var (app, url) = await LoopbackApp.StartAsync(context =>
        {
            lock (paths)
            {
                paths.Add(context.Request.Path.Value ?? "");
            }

            context.Response.StatusCode = status;
            return context.Response.WriteAsync("ok\n");
        });
        try
        {
            var port = new Uri(url).Port;
            var healthy = await CheckAsync($"0.0.0.0:{port}");
            Assert.True(healthy.ExitCode == 0, "the check failed against a 200: " + healthy);
            Assert.Equal(["/healthz"], paths);

            status = StatusCodes.Status503ServiceUnavailable;
            Assert.NotEqual(0, (await CheckAsync($"0.0.0.0:{port}")).ExitCode);
        }
        finally
        {
            await LoopbackApp.StopAsync(app);
        }

        // Nothing listening.
        Assert.NotEqual(0, (await CheckAsync($"0.0.0.0:{Loopback.FreePort()}")).ExitCode);
    }

    /// <summary>Runs the script as the image does: bash, WARREN_LISTEN naming the port, no other environment.</summary>
    private static Task<ProcessResult> CheckAsync(string listen) =>
        Processes.RunAsync("bash", null, new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["WARREN_LISTEN"] = listen }, [Script],
            timeout: TimeSpan.FromSeconds(30));
}

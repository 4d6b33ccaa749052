using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Warren.Deploy.Tests;

/// <summary>deploy/nginx.conf run by the real nginx, its upstreams pointed at 127.0.0.1: one node that refuses
/// connections, one that answers 502, one real Warren. Every GET must still succeed, through the retries.</summary>
[Collection(PodmanCollection.Name)]
public sealed class NginxTests(DeployFixture fixture)
{
    private const string Nginx = "/usr/sbin/nginx";

    [Fact]
    public async Task The_balancer_retries_a_GET_on_the_next_node_until_one_answers()
    {
        Assert.True(File.Exists(Nginx), $"{Nginx} not found: the load balancer test runs the real nginx (Debian: apt-get install nginx-light)");
        var module = Manifest.Get("github.com/gorilla/mux", "v1.8.0");
        var zipPath = $"/{Manifest.Escape(module.Path)}/@v/{Manifest.Escape(module.Version)}.zip";
        var expected = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(module.ZipPath)));

        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var failing = 0;
        var (badApp, badUrl) = await LoopbackApp.StartAsync(context =>
        {
            Interlocked.Increment(ref failing);
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return Task.CompletedTask;
        });
        try
        {
            var warrenPort = Loopback.FreePort();
            await using var warren = BackgroundProcess.Start(fixture.WarrenExecutable,
                ["serve", "--upstream", upstream.Url, "--sumdb", "off", "--listen", $"127.0.0.1:{warrenPort}", "--root", TestPaths.NewTempDir("deploy-node")]);
            await warren.WaitForPortAsync(warrenPort, TimeSpan.FromSeconds(60));

            var dir = TestPaths.NewTempDir("deploy-nginx");
            var port = Loopback.FreePort();
            var conf = Path.Combine(dir, "nginx.conf");
            await File.WriteAllTextAsync(conf, LocalConfig(
                await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "deploy", "nginx.conf")),
                dir, port, deadPort: Loopback.FreePort(), badPort: new Uri(badUrl).Port, warrenPort));

            var syntax = await Processes.RunAsync(Nginx, dir, null, ["-t", "-e", "stderr", "-p", dir, "-c", conf]);
            Assert.True(syntax.ExitCode == 0, "nginx -t refused deploy/nginx.conf: " + syntax);

            await using var nginx = BackgroundProcess.Start(Nginx, ["-e", "stderr", "-p", dir, "-c", conf, "-g", "daemon off;"]);
            await nginx.WaitForPortAsync(port);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
            for (var i = 0; i < 6; i++)
            {
                using var response = await http.GetAsync(zipPath);
                var body = await response.Content.ReadAsByteArrayAsync();
                Assert.True(response.IsSuccessStatusCode, $"request {i}: {(int)response.StatusCode} through nginx\nnginx:\n{nginx.Output}\nwarren:\n{warren.Output}");
                Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(body)));
                var info = await http.GetStringAsync($"/{Manifest.Escape(module.Path)}/@v/{module.Version}.info");
                Assert.Contains(module.Version, info, StringComparison.Ordinal);
            }

            // The 502 node was asked (and passed over); nginx's log shows the refused node was tried too.
            Assert.True(Volatile.Read(ref failing) >= 1, "nginx never sent a request to the node answering 502");
            Assert.Contains("Connection refused", nginx.Output, StringComparison.Ordinal);
        }
        finally
        {
            await LoopbackApp.StopAsync(badApp);
        }
    }

    /// <summary>The shipped configuration with its compose names replaced by loopback ports, its pid file and
    /// temporary files in <paramref name="dir"/>, and one worker.</summary>
    private static string LocalConfig(string shipped, string dir, int port, int deadPort, int badPort, int warrenPort)
    {
        string Replace(string text, string from, string to) =>
            text.Contains(from, StringComparison.Ordinal) ? text.Replace(from, to, StringComparison.Ordinal) : throw new InvalidOperationException($"deploy/nginx.conf has no '{from}'");

        var conf = Replace(shipped, "server warren-1:3000", $"server 127.0.0.1:{deadPort}");
        conf = Replace(conf, "server warren-2:3000", $"server 127.0.0.1:{badPort}");
        conf = Replace(conf, "server warren-3:3000", $"server 127.0.0.1:{warrenPort}");
        conf = Replace(conf, "listen 8080;", $"listen 127.0.0.1:{port};");
        conf = Replace(conf, "worker_processes auto;", $"worker_processes 1;\npid {dir}/nginx.pid;");
        var temp = string.Concat(new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }.Select(t => $"\n    {t}_temp_path {dir}/{t};"));
        return Replace(conf, "http {", "http {" + temp);
    }
}

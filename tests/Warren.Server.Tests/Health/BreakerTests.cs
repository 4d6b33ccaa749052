using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Upstream;

namespace Warren.Server.Tests.Health;

/// <summary>Health-aware upstreams on loopback: a dead first upstream (refused, or accepting and never answering) is
/// passed over once its breaker opens, with the go command's `,` and `|` rules intact, reported by /readyz and /metrics.</summary>
public sealed class BreakerTests
{
    private static string ModRequest(ManifestEntry e) => $"{Manifest.Escape(e.Path)}/@v/{Manifest.Escape(e.Version)}.mod";

    private static string Shown(string url) => HttpDownloader.Redact(new Uri(url));

    private static async Task<JsonElement> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("readyz?format=json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }

    private static async Task<string> StateAsync(HttpClient client, string upstream) =>
        (await ReadyAsync(client)).GetProperty("upstreams").EnumerateArray().Single(u => u.GetProperty("upstream").GetString() == Shown(upstream)).GetProperty("state").GetString()!;

    private static async Task<int?> UpMetricAsync(HttpClient client, string upstream)
    {
        var match = Regex.Match(await client.GetStringAsync("metrics"), $"^warren_upstream_up\\{{upstream=\"{Regex.Escape(Shown(upstream))}\"\\}} ([01])$", RegexOptions.Multiline);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>Three failures open a breaker; a short request timeout (for a hung upstream) unless the test moves big zips.</summary>
    private static void Breaker(WarrenOptionsBuilder o, TimeSpan cooldown, bool shortTimeout = true)
    {
        o.UpstreamFailures = 3;
        o.UpstreamCooldown = cooldown;
        if (shortTimeout)
        {
            o.UpstreamTimeout = TimeSpan.FromSeconds(2);
        }
    }

    [Theory]
    [InlineData(",")]
    [InlineData("|")]
    public async Task An_open_breaker_fails_at_once_so_a_pipe_goes_on_and_a_comma_stops_with_an_error_as_without_it(string separator)
    {
        var dead = $"http://127.0.0.1:{Loopback.FreePort()}";
        await using var good = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(dead + separator + good.Url, o => Breaker(o, TimeSpan.FromMinutes(10)));
        var versions = Manifest.All.Take(6).Select(ModRequest).ToList();

        // Three real failures open the breaker; the next three requests never reach the dead upstream.
        var answers = new List<(HttpStatusCode Status, string Body)>();
        foreach (var path in versions)
        {
            using var response = await warren.Client.GetAsync(path);
            answers.Add((response.StatusCode, await response.Content.ReadAsStringAsync()));
            if (answers.Count == 3)
            {
                Assert.Equal("open", await StateAsync(warren.Client, dead));
            }
        }

        if (separator == "|")
        {
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
            Assert.Equal(6, good.HitsFor(".mod"));
        }
        else
        {
            // The same status as a real connection failure; only the reason says the upstream was passed over.
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.BadGateway, a.Status));
            Assert.All(answers.Take(3), a => Assert.DoesNotContain("circuit open", a.Body, StringComparison.Ordinal));
            Assert.All(answers.Skip(3), a => Assert.Contains($"upstream {Shown(dead)} is down (circuit open)", a.Body, StringComparison.Ordinal));
            Assert.Equal(0, good.HitsFor(".mod"));
        }

        Assert.Equal("closed", await StateAsync(warren.Client, good.Url));
        Assert.Equal(0, await UpMetricAsync(warren.Client, dead));
        Assert.Equal(1, await UpMetricAsync(warren.Client, good.Url));
        var report = (await ReadyAsync(warren.Client)).GetProperty("upstreams")[0];
        Assert.Equal(3, report.GetProperty("consecutiveFailures").GetInt32());
        Assert.False(report.GetProperty("up").GetBoolean());
        Assert.Contains("127.0.0.1", report.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, report.GetProperty("nextProbe").ValueKind);

        // The plain readiness line is unchanged.
        Assert.Equal("ready\n", await warren.Client.GetStringAsync("readyz"));
    }

    [Fact]
    public async Task A_background_probe_closes_the_breaker_when_the_upstream_answers_again()
    {
        var port = Loopback.FreePort();
        var dead = $"http://127.0.0.1:{port}";
        await using var warren = await WarrenInstance.StartAsync(dead, o => Breaker(o, TimeSpan.FromMilliseconds(200)));
        foreach (var entry in Manifest.All.Take(3))
        {
            using var failed = await warren.Client.GetAsync(ModRequest(entry));
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        Assert.Equal("open", await StateAsync(warren.Client, dead));
        await Task.Delay(1000);
        Assert.True((await ReadyAsync(warren.Client)).GetProperty("upstreams")[0].GetProperty("cooldownSeconds").GetDouble() > 0.2, "failed probes grow the cool-down");

        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await StateAsync(warren.Client, dead) != "closed")
        {
            Assert.True(DateTime.UtcNow < deadline, "the probe never closed the breaker");
            await Task.Delay(100);
        }

        Assert.True(upstream.HitsFor("/") >= 1, "the probe asks the proxy's root");
        Assert.Equal(1, await UpMetricAsync(warren.Client, dead));
        using var response = await warren.Client.GetAsync(ModRequest(Manifest.All[0]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("refused")]
    [InlineData("hangs")]
    public async Task Once_the_breaker_opens_cache_misses_are_as_fast_as_with_a_healthy_first_upstream(string failure)
    {
        await using var corpus = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var first = await FakeUpstream.StartAsync(TestPaths.Corpus);
        using var hung = new CountingListener(hold: true);
        var dead = $"http://127.0.0.1:{(failure == "refused" ? Loopback.FreePort() : hung.Port)}";
        await using var healthy = await WarrenInstance.StartAsync($"{first.Url}|{corpus.Url}", o => Breaker(o, TimeSpan.FromMinutes(10)));
        await using var broken = await WarrenInstance.StartAsync($"{dead}|{corpus.Url}", o => Breaker(o, TimeSpan.FromMinutes(10)));

        // Warm-up: the broken node's first requests pay for the dead upstream (a refusal, or the 2 s timeout) until
        // its breaker opens; the healthy node gets as many, so both are past their first requests.
        var versions = Manifest.All.Select(ModRequest).ToList();
        foreach (var path in versions.Take(4))
        {
            foreach (var node in new[] { healthy, broken })
            {
                using var response = await node.Client.GetAsync(path);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        Assert.Equal("open", await StateAsync(broken.Client, dead));
        var reached = hung.Connections;
        var times = new Dictionary<WarrenInstance, List<double>> { [healthy] = [], [broken] = [] };
        var measured = versions.Skip(4).Take(60).ToList();
        for (var i = 0; i < measured.Count; i++)
        {
            // Alternate which node goes first, so that load on the machine falls on both alike.
            foreach (var node in i % 2 == 0 ? new[] { healthy, broken } : [broken, healthy])
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await node.Client.GetAsync(measured[i]);
                await response.Content.ReadAsByteArrayAsync();
                times[node].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        static double Median(List<double> values)
        {
            var sorted = values.Order().ToList();
            return (sorted[(sorted.Count - 1) / 2] + sorted[sorted.Count / 2]) / 2;
        }

        var (healthyMedian, brokenMedian) = (Median(times[healthy]), Median(times[broken]));
        Assert.True(brokenMedian <= 2 * healthyMedian, $"median of a cache miss with the first upstream {failure}: {brokenMedian:0.00} ms; healthy: {healthyMedian:0.00} ms");
        Assert.Equal(64, corpus.HitsFor(".mod"));
        Assert.Equal(64, first.HitsFor(".mod"));
        Assert.Equal("open", await StateAsync(broken.Client, dead));
        Assert.Equal(reached, hung.Connections);
    }

    [Fact]
    public async Task An_edge_keeps_serving_the_go_client_through_the_core_while_the_regional_node_is_down()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var core = await WarrenInstance.StartAsync(upstream.Url);
        var regional = await WarrenInstance.StartAsync(core.Url);
        var regionalUrl = regional.Url;
        await using var edge = await WarrenInstance.StartAsync($"{regionalUrl}|{core.Url}", o => Breaker(o, TimeSpan.FromMinutes(10), shortTimeout: false));

        // The regional node answers at first, then goes down.
        using (var before = await edge.Client.GetAsync(ModRequest(Manifest.All[0])))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await regional.DisposeAsync();
        string[] all = Manifest.All.Select(e => e.ToString()).ToArray();
        var result = await new GoRunner(edge.Url).RunAsync(TestPaths.NewTempDir("edge"), ["mod", "download", "-json", .. all]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var objects = GoRunner.JsonStream(result.Stdout);
        Assert.Equal(262, objects.Count);
        Assert.All(objects, o =>
        {
            Assert.False(o.TryGetProperty("Error", out _), o.ToString());
            Assert.Equal(Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!).ZipHash, o.GetProperty("Sum").GetString());
        });

        Assert.Equal("open", await StateAsync(edge.Client, regionalUrl));
        Assert.Equal(0, await UpMetricAsync(edge.Client, regionalUrl));
        Assert.Equal(1, await UpMetricAsync(edge.Client, core.Url));
    }
}

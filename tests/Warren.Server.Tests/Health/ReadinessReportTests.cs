using System.Net;
using System.Text.Json;
using Warren.Server.Tests.Auth;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Health;

/// <summary>/readyz as JSON: where following each feed stands, and no details for anonymous clients of a node with an auth file.</summary>
public sealed class ReadinessReportTests
{
    private static async Task<JsonElement> ReadyAsync(HttpClient client, bool accept = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, accept ? "readyz" : "readyz?format=json");
        if (accept)
        {
            request.Headers.Accept.ParseAdd("application/json");
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }

    private static async Task<JsonElement> FeedAsync(HttpClient client, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var feeds = (await ReadyAsync(client)).GetProperty("follow");
            if (feeds.GetArrayLength() == 1 && done(feeds[0]))
            {
                return feeds[0];
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task The_report_shows_each_followed_feed_its_cursor_lag_last_error_and_failed_versions()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var core = await WarrenInstance.StartAsync(upstream.Url);
        var some = Manifest.All.Take(3).Select(e => e.ToString()).ToArray();
        var warm = await new GoRunner(core.Url).RunAsync(TestPaths.NewTempDir("core"), ["mod", "download", .. some]);
        Assert.True(warm.ExitCode == 0, warm.ToString());

        await using var regional = await WarrenInstance.StartAsync(core.Url, o =>
        {
            o.Follow = core.Url + "/index";
            o.FollowInterval = TimeSpan.FromSeconds(1);
        });
        var feed = await FeedAsync(regional.Client, f => f.GetProperty("lastPass").ValueKind == JsonValueKind.String, "a pass over the core's feed");
        Assert.Equal(core.Url + "/index", feed.GetProperty("feed").GetString());
        Assert.StartsWith(DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture), feed.GetProperty("cursor").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, feed.GetProperty("lagSeconds").GetDouble());
        Assert.Equal(JsonValueKind.Null, feed.GetProperty("lastError").ValueKind);
        Assert.Equal(0, feed.GetProperty("failedVersions").GetInt32());
        var report = await ReadyAsync(regional.Client, accept: true);
        Assert.Equal("ready", report.GetProperty("status").GetString());
        Assert.Equal(core.Url + "/", report.GetProperty("upstreams")[0].GetProperty("upstream").GetString());
        Assert.Equal("closed", report.GetProperty("upstreams")[0].GetProperty("state").GetString());

        // A feed that cannot be read: its error is in the report.
        var dead = $"http://127.0.0.1:{Loopback.FreePort()}/index";
        await using var orphan = await WarrenInstance.StartAsync(core.Url, o =>
        {
            o.Follow = dead;
            o.FollowInterval = TimeSpan.FromSeconds(1);
        });
        var failing = await FeedAsync(orphan.Client, f => f.GetProperty("lastError").ValueKind == JsonValueKind.String, "the feed's error");
        Assert.Equal(dead, failing.GetProperty("feed").GetString());
        Assert.Contains("127.0.0.1", failing.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, failing.GetProperty("cursor").ValueKind);
    }

    [Fact]
    public async Task With_an_auth_file_anonymous_clients_get_the_status_without_the_details()
    {
        var file = AuthTestFiles.NewFile();
        AuthTestFiles.Add(file, "user", "*");
        await using var warren = await WarrenInstance.StartAsync("http://upstream.invalid", o => o.AuthFile = file);
        var report = await ReadyAsync(warren.Client);
        Assert.Equal("ready", report.GetProperty("status").GetString());
        Assert.False(report.TryGetProperty("upstreams", out _));
        Assert.False(report.TryGetProperty("follow", out _));

        await using var open = await WarrenInstance.StartAsync("http://upstream.invalid");
        Assert.Equal("http://upstream.invalid/", (await ReadyAsync(open.Client)).GetProperty("upstreams")[0].GetProperty("upstream").GetString());
    }
}

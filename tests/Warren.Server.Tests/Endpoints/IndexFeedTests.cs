using System.Net;
using System.Text.Json;
using Warren.Server.Endpoints;
using Warren.Server.Tests.Auth;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Endpoints;

/// <summary>GET /index: index.golang.org's format, strict paging, precise 400s, and only what the client may read.</summary>
public sealed class IndexFeedTests
{
    internal sealed record Line(string Path, string Version, string Timestamp);

    /// <summary>Every line of one GET of the feed, checked for strictly increasing timestamps.</summary>
    internal static async Task<List<Line>> ReadAllAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonSerializer.Deserialize<Line>(l)!).ToList();
        for (var i = 1; i < lines.Count; i++)
        {
            Assert.True(Time(lines[i].Timestamp) > Time(lines[i - 1].Timestamp), $"{lines[i]} after {lines[i - 1]}");
        }

        return lines;
    }

    /// <summary>The whole feed read in pages of limit, each next page from the last timestamp (inclusive), as a
    /// follower does; what a page repeats of the previous one (the inclusive timestamp) is dropped.</summary>
    internal static async Task<List<Line>> PageAsync(HttpClient client, int limit)
    {
        var all = new List<Line>();
        var since = "1970-01-01T00:00:00Z";
        while (true)
        {
            var page = await ReadAllAsync(client, $"index?limit={limit}&since={Uri.EscapeDataString(since)}");
            var fresh = page.Where(l => all.Count == 0 || Time(l.Timestamp) > Time(all[^1].Timestamp)).ToList();
            if (fresh.Count == 0)
            {
                return all;
            }

            all.AddRange(fresh);
            since = fresh[^1].Timestamp;
        }
    }

    private static DateTimeOffset Time(string text) => Assert.IsType<DateTimeOffset>(IndexFeed.TryParseTime(text, out var t) ? t : null);

    [Theory]
    [InlineData("2019-04-10T19:08:52.997264Z", "2019-04-10T19:08:52.997264Z")]
    [InlineData("2019-04-10T19:08:52.997264123Z", "2019-04-10T19:08:52.997264Z")]
    [InlineData("2019-04-10T19:08:52.5Z", "2019-04-10T19:08:52.5Z")]
    [InlineData("2019-04-10T19:08:52Z", "2019-04-10T19:08:52Z")]
    [InlineData("2019-04-10T21:08:52+02:00", "2019-04-10T19:08:52Z")]
    public void Times_are_read_and_written_as_RFC3339_to_the_microsecond(string input, string written)
    {
        Assert.True(IndexFeed.TryParseTime(input, out var time));
        Assert.Equal(written, IndexFeed.FormatTime(time));
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("2019-04-10")]
    [InlineData("2019-13-10T19:08:52Z")]
    public void Other_times_are_refused(string input) => Assert.False(IndexFeed.TryParseTime(input, out _));

    [Fact]
    public async Task Bad_parameters_get_a_400_with_a_one_line_reason()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);
        foreach (var (query, reason) in new[] { ("since=yesterday", "invalid since"), ("limit=0", "invalid limit"), ("limit=-3", "invalid limit"), ("limit=x", "invalid limit") })
        {
            using var response = await warren.Client.GetAsync("index?" + query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.StartsWith(reason, body, StringComparison.Ordinal);
            Assert.Single(body.TrimEnd('\n').Split('\n'));
        }

        // An empty store has an empty feed; a limit above the maximum is taken as the maximum.
        Assert.Empty(await ReadAllAsync(warren.Client, "index?limit=99999"));
    }

    [Fact]
    public async Task A_client_sees_only_the_versions_it_may_read()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var file = AuthTestFiles.NewFile();
        var all = AuthTestFiles.Add(file, "all", "*");
        var pkg = AuthTestFiles.Add(file, "pkg", "github.com/pkg");
        var nothing = AuthTestFiles.Add(file, "nothing", "example.invalid");
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.AuthFile = file);
        var entries = Manifest.All.Where(e => e.Path.StartsWith("github.com/pkg/", StringComparison.Ordinal)).Take(2)
            .Concat(Manifest.All.Where(e => !e.Path.StartsWith("github.com/pkg/", StringComparison.Ordinal)).Take(3)).ToList();
        foreach (var e in entries)
        {
            var (status, body, _) = await AuthTestFiles.GetAsync(warren.Client, $"{Manifest.Escape(e.Path)}/@v/{Manifest.Escape(e.Version)}.info", AuthTestFiles.Bearer(all));
            Assert.True(status == 200, body);
        }

        async Task<List<string>> SeenBy(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "index");
            request.Headers.Authorization = AuthTestFiles.Bearer(token);
            using var response = await warren.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonSerializer.Deserialize<Line>(l)!.Path).ToList();
        }

        Assert.Equal(5, (await SeenBy(all)).Count);
        Assert.Equal(entries.Take(2).Select(e => e.Path).Order(StringComparer.Ordinal), (await SeenBy(pkg)).Order(StringComparer.Ordinal));
        Assert.Empty(await SeenBy(nothing));
        Assert.Equal(401, (await AuthTestFiles.GetAsync(warren.Client, "index")).Status);
    }
}

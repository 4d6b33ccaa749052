using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Warren.Core.Impact;
using Warren.Tools.Impact;
using Warren.Tools.Reporting;

namespace Warren.Tools.Tests.Impact;

public sealed class ServedImpactClientTests
{
    private static readonly ServedImpactReport Report = new(new DateOnly(2026, 9, 6), new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero), true,
    [
        new AffectedServedVersion("example.com/lib", "v1.2.3",
            [new ImpactAdvisory("GO-2026-0100", ["CVE-2026-1234", "GHSA-aaaa-bbbb-cccc"], "Bad parsing", "v1.2.4")],
            [
                new ImpactClient("ci-main", 40, new DateTimeOffset(2026, 12, 4, 9, 30, 0, TimeSpan.Zero), ["eu-1", "us-1"]),
                new ImpactClient("alice", 2, new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero), ["eu-1"]),
            ]),
    ]);

    [Fact]
    public async Task The_client_reads_the_report_and_sends_the_token_and_since()
    {
        string? seenAuth = null, seenQuery = null;
        var (app, url) = await LoopbackApp.StartAsync(async context =>
        {
            seenAuth = context.Request.Headers.Authorization.ToString();
            seenQuery = context.Request.Path + context.Request.QueryString;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(Report, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        });
        try
        {
            using var http = new HttpClient();
            var result = await new ServedImpactClient(http).GetAsync(new Uri(url), "90d", "tok", CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal("Bearer tok", seenAuth);
            Assert.Equal("/admin/impact?since=90d", seenQuery);
            Assert.Equal(Report.Versions[0].Clients, result.Report!.Versions[0].Clients, (a, b) => a.Client == b.Client && a.Downloads == b.Downloads && a.Nodes.SequenceEqual(b.Nodes));
            Assert.Equal("v1.2.4", result.Report.Versions[0].Advisories[0].Fixed);

            var output = new StringWriter();
            var error = new StringWriter();
            Assert.Equal(ServedImpactRun.Affected, await ServedImpactRun.RunAsync(http, new Uri(url), "90d", "tok", json: true, new ReportStyle(false, false, null), output, error, CancellationToken.None));
            Assert.Contains("\"GO-2026-0100\"", output.ToString(), StringComparison.Ordinal);
            Assert.Equal(ServedImpactRun.Error, await ServedImpactRun.RunAsync(http, new Uri(url), "soon", "tok", json: false, new ReportStyle(false, false, null), output, error, CancellationToken.None));
            Assert.StartsWith("warren audit --served: --since:", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await LoopbackApp.StopAsync(app);
        }
    }

    [Fact]
    public async Task Refusals_bad_answers_unreachable_servers_and_bad_periods_are_one_line_results()
    {
        var (app, url) = await LoopbackApp.StartAsync(async context =>
        {
            if (context.Request.Headers.Authorization.Count == 0)
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsync("unauthorized: no credential; /admin/impact needs an admin token\n");
                return;
            }

            await context.Response.WriteAsync("<html>not json</html>");
        });
        using var http = new HttpClient();
        var client = new ServedImpactClient(http);
        try
        {
            var refused = await client.GetAsync(new Uri(url), null, null, CancellationToken.None);
            Assert.Equal($"{url}/admin/impact: HTTP 401: unauthorized: no credential; /admin/impact needs an admin token", refused.Error);
            var garbled = await client.GetAsync(new Uri(url), null, "t", CancellationToken.None);
            Assert.StartsWith($"{url}/admin/impact: not an impact report:", garbled.Error, StringComparison.Ordinal);
        }
        finally
        {
            await LoopbackApp.StopAsync(app);
        }

        var down = await client.GetAsync(new Uri($"http://127.0.0.1:{Loopback.FreePort()}"), "90d", null, CancellationToken.None);
        Assert.False(down.Succeeded);
        Assert.DoesNotContain('\n', down.Error!);
        Assert.StartsWith("--since:", (await client.GetAsync(new Uri(url), "ninety", null, CancellationToken.None)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_is_a_table_on_a_terminal_and_one_line_per_client_elsewhere_json_round_trips()
    {
        var lines = new StringWriter();
        ServedImpactRenderer.WriteText(Report, lines, new ReportStyle(Terminal: false, Color: false, Width: null));
        Assert.Equal(
        [
            "example.com/lib@v1.2.3 GO-2026-0100(CVE-2026-1234,GHSA-aaaa-bbbb-cccc) fixed v1.2.4 client ci-main downloads 40 last 2026-12-04T09:30:00Z nodes eu-1,us-1",
            "example.com/lib@v1.2.3 GO-2026-0100(CVE-2026-1234,GHSA-aaaa-bbbb-cccc) fixed v1.2.4 client alice downloads 2 last 2026-11-01T08:00:00Z nodes eu-1",
            "1 affected version downloaded by 2 clients since 2026-09-06",
        ], lines.ToString().TrimEnd('\n').Split('\n'));

        var table = new StringWriter();
        ServedImpactRenderer.WriteText(Report, table, new ReportStyle(Terminal: true, Color: false, Width: 160));
        var text = table.ToString();
        Assert.Contains("module@version", text, StringComparison.Ordinal);
        Assert.Contains("ci-main", text, StringComparison.Ordinal);
        Assert.Contains("2026-12-04 09:30 UTC", text, StringComparison.Ordinal);
        Assert.Contains("╭", text, StringComparison.Ordinal);

        var json = new StringWriter();
        ServedImpactRenderer.WriteJson(Report, json);
        var back = JsonSerializer.Deserialize<ServedImpactReport>(json.ToString(), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal(("example.com/lib", "alice"), (back.Versions[0].Module, back.Versions[0].Clients[1].Client));
        Assert.Contains("\"lastDownload\"", json.ToString(), StringComparison.Ordinal);

        var unavailable = Report with { DatabaseAvailable = false, Versions = [] };
        Assert.StartsWith("no vulnerability database is loaded", ServedImpactRenderer.Summary(unavailable), StringComparison.Ordinal);
    }
}

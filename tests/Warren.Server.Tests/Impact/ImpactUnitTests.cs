using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Warren.Core.Limits;
using Warren.Server.Configuration;
using Warren.Server.Impact;
using Warren.Server.Tests.Infrastructure;
using Warren.Storage;
using Warren.Storage.Sqlite;
using Warren.Tools.Impact;

namespace Warren.Server.Tests.Impact;

public sealed class ImpactUnitTests
{
    [Fact]
    public void Bad_retention_webhook_and_node_name_are_refused_at_start_up_one_line_each()
    {
        var options = new WarrenOptionsBuilder { Root = "/srv/w", Upstream = "off", DownloadRetention = "soon", AlertWebhook = "ftp://hooks.example/x", NodeName = " n " }.Build();
        var problems = new WarrenOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Single(problems, p => p.StartsWith("download retention: \"soon\" is not a period", StringComparison.Ordinal));
        Assert.Single(problems, p => p.StartsWith("alert webhook \"ftp://hooks.example/x\": not an absolute http or https URL", StringComparison.Ordinal));
        Assert.Single(problems, p => p.StartsWith("node name:", StringComparison.Ordinal));
        Assert.Contains("a URL with a #fragment", ImpactSettings.WebhookProblem("https://h.example/x#y"), StringComparison.Ordinal);
        Assert.Null(ImpactSettings.WebhookProblem("https://h.example/hook?token=1"));
        Assert.Contains("at least one day", Assert.Single(ImpactSettings.Problems(options with { DownloadRetention = "3h", AlertWebhook = null, NodeName = null })), StringComparison.Ordinal);

        Assert.Equal(TimeSpan.FromDays(400), new WarrenOptions().DownloadRetentionPeriod);
        Assert.Equal(TimeSpan.FromDays(84), (options with { DownloadRetention = "12w" }).DownloadRetentionPeriod);
        Assert.Empty(ImpactSettings.Problems(options with { DownloadRetention = "90.00:00:00", AlertWebhook = "http://127.0.0.1:9/h", NodeName = "eu-1" }));
        Assert.Equal("https://h.example/hook", ImpactSettings.Redact(new Uri("https://u:p@h.example/hook?token=1")));
    }

    [Fact]
    public async Task Warren_serve_with_a_bad_webhook_and_retention_exits_2_with_one_line_each()
    {
        var dir = TestPaths.NewTempDir("impact-cli");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { WarrenProcess.Dll, "serve", "--listen", "127.0.0.1:1", "--root", Path.Combine(dir, "store"), "--sumdb", "off",
                     "--upstream", "off", "--alert-webhook", "hooks.example/x", "--download-retention", "400 days", "--node-name", "eu-1" })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Single(stderr.Split('\n'), l => l.Contains("alert webhook \"hooks.example/x\": not an absolute http or https URL", StringComparison.Ordinal));
        Assert.Single(stderr.Split('\n'), l => l.Contains("download retention: \"400 days\" is not a period", StringComparison.Ordinal));
        Assert.DoesNotContain("node name", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("90d", 90 * 24 * 60)]
    [InlineData("2w", 14 * 24 * 60)]
    [InlineData("36h", 36 * 60)]
    [InlineData("15m", 15)]
    [InlineData("1.00:00:00", 24 * 60)]
    public void Periods_parse(string text, int minutes)
    {
        Assert.True(DurationText.TryParse(text, out var period, out var error), error);
        Assert.Equal(TimeSpan.FromMinutes(minutes), period);
    }

    [Theory]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("-3d")]
    [InlineData("0d")]
    [InlineData("3y")]
    public void Bad_periods_do_not_parse(string text) => Assert.False(DurationText.TryParse(text, out _, out _));

    [Fact]
    public void Retries_back_off_exponentially_up_to_a_bound()
    {
        Assert.Equal([1, 2, 4, 8], Enumerable.Range(1, 4).Select(n => AlertSender.Backoff(n).TotalSeconds));
        Assert.Equal(AlertSender.MaxRetry, AlertSender.Backoff(13));
        Assert.Equal(AlertSender.MaxRetry, AlertSender.Backoff(int.MaxValue));
        Assert.Equal(AlertSender.IdempotencyKey([("A", "m", "v1"), ("A", "m", "v2")]), AlertSender.IdempotencyKey([("A", "m", "v2"), ("A", "m", "v1")]));
    }

    [Fact]
    public void The_impact_url_keeps_the_proxy_path()
    {
        Assert.Equal("https://w.example/go/admin/impact?since=90d", ServedImpactClient.ImpactUrl(new Uri("https://w.example/go/"), "90d").AbsoluteUri);
        Assert.Equal("http://127.0.0.1:8080/admin/impact", ServedImpactClient.ImpactUrl(new Uri("http://127.0.0.1:8080"), null).AbsoluteUri);
    }

    [Fact]
    public async Task Counts_older_than_the_retention_window_are_pruned()
    {
        using var index = new SqliteModuleIndex(new SqliteIndexOptions { Path = Path.Combine(TestPaths.NewTempDir("impact-prune"), "index.db") });
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var tracker = new DownloadTracker(time);
        var records = new DownloadRecords(index, tracker, Options.Create(new WarrenOptions { DownloadRetention = "30d", NodeName = "n" }), time, NullLogger<DownloadRecords>.Instance);
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        await index.RecordDownloadsAsync(
        [
            new("m.example/a", "v1.0.0", "alice", "n", today.AddDays(-31), 1, time.GetUtcNow().AddDays(-31)),
            new("m.example/a", "v1.0.0", "alice", "n", today.AddDays(-30), 1, time.GetUtcNow().AddDays(-30)),
        ], CancellationToken.None);
        tracker.Record("m.example/a", "v1.0.0", "bob");
        tracker.Record("m.example/a", "v1.0.0", "bob");
        await records.FlushAsync(CancellationToken.None);

        Assert.Equal(1, await records.PruneAsync(CancellationToken.None));
        var rows = await index.ReadDownloadsAsync(DateOnly.MinValue, null, CancellationToken.None);
        Assert.Equal([(today.AddDays(-30), "alice", 1L), (today, "bob", 2L)], rows.Select(r => (r.Day, r.Client, r.Downloads)).Order());

        // A day later the edge day goes too.
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await records.PruneAsync(CancellationToken.None));
    }

    [Fact]
    public void The_tracker_is_bounded_and_drops_beyond_its_limit()
    {
        var tracker = new DownloadTracker(new ManualTimeProvider());
        for (var i = 0; i < DownloadTracker.MaxPending + 10; i++)
        {
            tracker.Record("m.example/a", "v1.0." + i, "c");
        }

        tracker.Record("m.example/a", "v1.0.0", "c");
        Assert.Equal(10, tracker.TakeDropped());
        var batch = tracker.TakeBatch("n");
        Assert.Equal(DownloadTracker.MaxPending, batch.Count);
        Assert.Equal(2, batch.Single(b => b.Version == "v1.0.0").Downloads);
        Assert.Empty(tracker.TakeBatch("n"));
    }

    [Fact]
    public async Task A_full_get_and_the_first_range_count_as_downloads_later_ranges_head_and_info_do_not()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.NodeName = "solo");
        const string Zip = "github.com/mattn/go-isatty/@v/v0.0.17.zip";
        async Task<HttpStatusCode> Send(HttpMethod method, string path, string? range = null)
        {
            using var request = new HttpRequestMessage(method, path);
            if (range is not null)
            {
                request.Headers.Range = RangeHeaderValue.Parse(range);
            }

            using var response = await warren.Client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Send(HttpMethod.Get, Zip));
        Assert.Equal(HttpStatusCode.PartialContent, await Send(HttpMethod.Get, Zip, "bytes=0-99"));
        Assert.Equal(HttpStatusCode.PartialContent, await Send(HttpMethod.Get, Zip, "bytes=100-199"));
        Assert.Equal(HttpStatusCode.OK, await Send(HttpMethod.Head, Zip));
        Assert.Equal(HttpStatusCode.OK, await Send(HttpMethod.Get, "github.com/mattn/go-isatty/@v/v0.0.17.info"));
        Assert.Equal(HttpStatusCode.NotFound, await Send(HttpMethod.Get, "github.com/mattn/go-isatty/@v/v9.9.9.zip"));

        await warren.Services.GetRequiredService<DownloadRecords>().FlushAsync(CancellationToken.None);
        var row = Assert.Single(await warren.Services.GetRequiredService<IModuleIndex>().ReadDownloadsAsync(DateOnly.MinValue, null, CancellationToken.None));
        Assert.Equal(("github.com/mattn/go-isatty", "v0.0.17", "anonymous", "solo", 2L), (row.ModulePath, row.Version, row.Client, row.Node, row.Downloads));
    }
}

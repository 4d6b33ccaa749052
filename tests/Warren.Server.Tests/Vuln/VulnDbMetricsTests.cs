using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Vulns;

namespace Warren.Server.Tests.Vuln;

/// <summary>The mirror's counters on /metrics move with refreshes (ok, not modified, failed), fetched entries, requests
/// under /vuln/ and files served stale while the source is down.</summary>
public sealed class VulnDbMetricsTests
{
    [Fact]
    public async Task Refreshes_fetched_entries_requests_and_stale_serves_are_counted_on_metrics()
    {
        var upstream = await VulnDbUpstream.StartAsync(TestVulnDb.Write());
        var stopped = false;
        try
        {
            await using var warren = await WarrenInstance.StartAsync("off", o => o.VulnDb = upstream.Url);
            var before = await ScrapeAsync(warren);
            Assert.Equal(0, before["warren_vulndb_refreshes_total{result=\"ok\"}"]);
            Assert.Equal(0, before["warren_vulndb_requests_total{result=\"served\"}"]);

            // The first request starts the mirror: one refresh that loads a copy of one entry, then the file.
            Assert.Contains("2026-01-02T00:00:00Z", await warren.Client.GetStringAsync("vuln/index/db.json"));
            var loaded = await ScrapeAsync(warren);
            Assert.Equal(1, loaded["warren_vulndb_refreshes_total{result=\"ok\"}"]);
            Assert.Equal(1, loaded["warren_vulndb_entries_fetched_total"]);
            Assert.Equal(1, loaded["warren_vulndb_requests_total{result=\"served\"}"]);
            Assert.Equal(0, loaded["warren_vulndb_stale_serves_total"]);

            var mirror = warren.Services.GetRequiredService<VulnDbMirror>();
            Assert.False(await mirror.RefreshAsync(CancellationToken.None));
            Assert.Equal(HttpStatusCode.NotFound, (await warren.Client.GetAsync("vuln/github.com/nobody/nothing.json")).StatusCode);
            var unchanged = await ScrapeAsync(warren);
            Assert.Equal(1, unchanged["warren_vulndb_refreshes_total{result=\"not_modified\"}"]);
            Assert.Equal(1, unchanged["warren_vulndb_entries_fetched_total"]);
            Assert.Equal(1, unchanged["warren_vulndb_requests_total{result=\"not_found\"}"]);

            // The source goes away: the refresh fails and the copy is served stale.
            await upstream.DisposeAsync();
            stopped = true;
            Assert.False(await mirror.RefreshAsync(CancellationToken.None));
            Assert.Contains("2026-01-02T00:00:00Z", await warren.Client.GetStringAsync("vuln/index/db.json"));
            var stale = await ScrapeAsync(warren);
            Assert.Equal(1, stale["warren_vulndb_refreshes_total{result=\"failed\"}"]);
            Assert.Equal(2, stale["warren_vulndb_requests_total{result=\"served\"}"]);
            Assert.Equal(1, stale["warren_vulndb_stale_serves_total"]);
            Assert.Equal(1, stale["warren_vulndb_refreshes_total{result=\"ok\"}"]);
        }
        finally
        {
            if (!stopped)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    /// <summary>GET /metrics; the value of every warren_vulndb_ series by its name and labels.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(WarrenInstance warren)
    {
        var text = await warren.Client.GetStringAsync("metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith("warren_vulndb_", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }
}

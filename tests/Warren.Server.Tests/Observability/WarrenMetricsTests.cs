using Warren.Server.Observability;
using Warren.Server.Upstream;

namespace Warren.Server.Tests.Observability;

public sealed class WarrenMetricsTests
{
    [Fact]
    public void Every_metric_keeps_its_name_type_labels_and_help_in_the_text_format()
    {
        var metrics = new WarrenMetrics();
        metrics.Request("zip", 200);
        metrics.Request("zip", 200);
        metrics.Request("info", 404);
        metrics.CacheHit("zip");
        metrics.CacheMiss("mod");
        metrics.StaleServed("list");
        metrics.BytesServed("zip", 1234567890123);
        metrics.IngestRejected("zip_hash");
        metrics.EgressDenied("loopback");
        metrics.ModDiffersFromZip();
        metrics.Coalesced();
        metrics.UpstreamFetch("zip", FetchStatus.Ok, TimeSpan.FromMilliseconds(30));
        metrics.UpstreamFetch("info", FetchStatus.NotFound, TimeSpan.FromSeconds(100));
        metrics.SumDbVerification("sumdb", "ok", TimeSpan.FromMilliseconds(2));
        metrics.ChecksumMismatch("hosted");
        metrics.HostedAppended(3, 42);
        var level = 7L;
        metrics.Gauge("warren_test_level", "A level read at collection.", () => level);

        var text = metrics.Render();
        foreach (var expected in new[]
        {
            "# HELP warren_http_requests_total HTTP requests by route and status.\n# TYPE warren_http_requests_total counter\n",
            "warren_http_requests_total{route=\"zip\",status=\"200\"} 2\n",
            "warren_http_requests_total{route=\"info\",status=\"404\"} 1\n",
            "# TYPE warren_cache_hits_total counter\n", "warren_cache_hits_total{kind=\"zip\"} 1\n",
            "warren_cache_misses_total{kind=\"mod\"} 1\n",
            "# HELP warren_stale_served_total Expired list/latest answers served because upstream failed.\n", "warren_stale_served_total{kind=\"list\"} 1\n",
            "warren_bytes_served_total{kind=\"zip\"} 1234567890123\n",
            "warren_ingest_rejected_total{reason=\"zip_hash\"} 1\n",
            "warren_egress_denied_total{reason=\"loopback\"} 1\n",
            "warren_mod_differs_from_zip_total 1\n",
            "warren_coalesced_requests_total 1\n",
            "# TYPE warren_upstream_fetches_in_flight gauge\nwarren_upstream_fetches_in_flight 0\n",
            "# TYPE warren_upstream_fetch_duration_seconds histogram\n",
            "warren_upstream_fetch_duration_seconds_bucket{kind=\"zip\",outcome=\"ok\",le=\"0.025\"} 0\n",
            "warren_upstream_fetch_duration_seconds_bucket{kind=\"zip\",outcome=\"ok\",le=\"0.05\"} 1\n",
            "warren_upstream_fetch_duration_seconds_bucket{kind=\"info\",outcome=\"not_found\",le=\"60\"} 0\n",
            "warren_upstream_fetch_duration_seconds_bucket{kind=\"info\",outcome=\"not_found\",le=\"+Inf\"} 1\n",
            "warren_upstream_fetch_duration_seconds_count{kind=\"zip\",outcome=\"ok\"} 1\n",
            "warren_upstream_fetch_duration_seconds_sum{kind=\"info\",outcome=\"not_found\"} 100\n",
            "warren_sumdb_verify_duration_seconds_bucket{database=\"sumdb\",outcome=\"ok\",le=\"0.0025\"} 1\n",
            "warren_checksum_mismatches_total{database=\"hosted\"} 1\n",
            "# TYPE warren_hosted_sumdb_records gauge\nwarren_hosted_sumdb_records 42\n",
            "warren_hosted_sumdb_appends_total 3\n",
            "# HELP warren_test_level A level read at collection.\n# TYPE warren_test_level gauge\nwarren_test_level 7\n",
        })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        level = 9;
        Assert.Contains("warren_test_level 9\n", metrics.Render(), StringComparison.Ordinal);
        Assert.Equal(1, metrics.UpstreamFetches("zip"));
        Assert.Equal(1, metrics.SumDbVerifications("ok"));
        Assert.Equal(1, metrics.ChecksumMismatches);
        Assert.Equal(1, metrics.EgressDeniedTotal);
    }

    [Fact]
    public void Two_instances_in_one_process_count_separately_and_series_appear_only_once_used()
    {
        var one = new WarrenMetrics();
        var two = new WarrenMetrics();
        one.Request("zip", 200);
        Assert.Contains("warren_http_requests_total{route=\"zip\",status=\"200\"} 1\n", one.Render(), StringComparison.Ordinal);
        var other = two.Render();
        Assert.DoesNotContain("warren_http_requests_total{", other, StringComparison.Ordinal);
        Assert.DoesNotContain("warren_ingest_rejected_total{", other, StringComparison.Ordinal);
        Assert.Contains("warren_mod_differs_from_zip_total 0\n", other, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upstream_fetch_is_in_flight_while_it_runs()
    {
        var metrics = new WarrenMetrics();
        var release = new TaskCompletionSource<FetchOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = metrics.MeasureFetchAsync("zip", () => release.Task);
        Assert.Equal(1, metrics.InFlight);
        Assert.Contains("warren_upstream_fetches_in_flight 1\n", metrics.Render(), StringComparison.Ordinal);
        release.SetResult(FetchOutcome.NotFound("test", "gone"));
        await running;
        Assert.Equal(0, metrics.InFlight);
        Assert.Contains("warren_upstream_fetch_duration_seconds_count{kind=\"zip\",outcome=\"not_found\"} 1\n", metrics.Render(), StringComparison.Ordinal);
    }
}

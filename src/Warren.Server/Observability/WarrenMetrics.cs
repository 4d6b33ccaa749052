using System.Collections.Concurrent;
using System.Globalization;
using Prometheus;
using Warren.Server.Upstream;

namespace Warren.Server.Observability;

/// <summary>Warren's counters, gauges and histograms, kept and exposed (Prometheus text format) by prometheus-net, in
/// a registry of this instance's own (several servers may run in one process). The labelled series used on the hot
/// path are looked up once and cached, so counting a request allocates nothing.</summary>
public sealed class WarrenMetrics
{
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private static readonly double[] VerifyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly IMetricFactory _factory;
    private readonly Counter _requests;
    private readonly Counter _hits;
    private readonly Counter _misses;
    private readonly Counter _stale;
    private readonly Counter _bytes;
    private readonly Counter _rejected;
    private readonly Counter _egressDenied;
    private readonly Counter _modDiffers;
    private readonly Counter _coalesced;
    private readonly Counter _streamedZips;
    private readonly Gauge _inFlight;
    private readonly Histogram _fetches;
    private readonly Histogram _verifications;
    private readonly Counter _mismatches;
    private readonly Gauge _hostedRecords;
    private readonly Counter _hostedAppends;
    private readonly Counter _followed;
    private readonly Gauge _followLag;
    private readonly Gauge _upstreamUp;
    private readonly Histogram _storage;
    private readonly Counter _storageErrors;

    private readonly ConcurrentDictionary<(string Route, int Status), Counter.Child> _requestSeries = new();
    private readonly ConcurrentDictionary<string, Counter.Child> _hitSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter.Child> _missSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter.Child> _staleSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter.Child> _byteSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter.Child> _rejectedSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter.Child> _egressDeniedSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter.Child> _mismatchSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Kind, string Outcome), Histogram.Child> _fetchSeries = new();
    private readonly ConcurrentDictionary<(string Database, string Outcome), Histogram.Child> _verifySeries = new();
    private readonly ConcurrentDictionary<(string Backend, string Provider, string Operation), Histogram.Child> _storageSeries = new();

    public WarrenMetrics()
        : this(TimeProvider.System)
    {
    }

    public WarrenMetrics(TimeProvider time)
    {
        Recent = new RecentActivity(time);
        Registry = Metrics.NewCustomRegistry();
        _factory = Metrics.WithCustomRegistry(Registry);
        _requests = _factory.CreateCounter("warren_http_requests_total", "HTTP requests by route and status.", ["route", "status"]);
        _hits = _factory.CreateCounter("warren_cache_hits_total", "Requests answered from the store.", ["kind"]);
        _misses = _factory.CreateCounter("warren_cache_misses_total", "Requests that needed an upstream fetch.", ["kind"]);
        _stale = _factory.CreateCounter("warren_stale_served_total", "Expired list/latest answers served because upstream failed.", ["kind"]);
        _bytes = _factory.CreateCounter("warren_bytes_served_total", "Response body bytes sent.", ["kind"]);
        _rejected = _factory.CreateCounter("warren_ingest_rejected_total", "Upstream artifacts refused by integrity checks.", ["reason"]);
        _egressDenied = _factory.CreateCounter("warren_egress_denied_total", "Outbound connections and redirects refused by the egress policy.", ["reason"]);
        _modDiffers = _factory.CreateCounter("warren_mod_differs_from_zip_total", "Versions stored with a .mod that differs from the zip's go.mod, no checksum database vouching.");
        _coalesced = _factory.CreateCounter("warren_coalesced_requests_total", "Requests that waited on another request's upstream fetch.");
        _streamedZips = _factory.CreateCounter("warren_streamed_zips_total", "Zip responses sent while the zip was fetched and verified, by result (complete, or cut short).",
            new CounterConfiguration { LabelNames = ["result"] });
        _inFlight = _factory.CreateGauge("warren_upstream_fetches_in_flight", "Upstream fetches under way.");
        _fetches = _factory.CreateHistogram("warren_upstream_fetch_duration_seconds", "Upstream fetches by kind and outcome.",
            new HistogramConfiguration { LabelNames = ["kind", "outcome"], Buckets = DurationBuckets });
        _verifications = _factory.CreateHistogram("warren_sumdb_verify_duration_seconds", "Checksum verifications of ingested modules by database and outcome.",
            new HistogramConfiguration { LabelNames = ["database", "outcome"], Buckets = VerifyBuckets });
        _mismatches = _factory.CreateCounter("warren_checksum_mismatches_total", "Modules refused because their hashes differ from the checksum database.", ["database"]);
        _hostedRecords = _factory.CreateGauge("warren_hosted_sumdb_records", "Records in the hosted checksum database.");
        _hostedAppends = _factory.CreateCounter("warren_hosted_sumdb_appends_total", "Records appended to the hosted checksum database by this process.");
        _followed = _factory.CreateCounter("warren_follow_versions_total", "Versions of a followed index feed, by outcome (fetched, present, skipped, failed).", ["outcome"]);
        _followLag = _factory.CreateGauge("warren_follow_lag_seconds", "How far the followed feed's processed position is behind its newest version.");
        _upstreamUp = _factory.CreateGauge("warren_upstream_up", "1 while an upstream proxy's circuit breaker is closed, 0 while it is open (the upstream is passed over).", ["upstream"]);
        _storage = _factory.CreateHistogram("warren_storage_operation_duration_seconds", "Operations on the artifact store and the module index (S3, PostgreSQL, files, SQLite) by backend, provider and operation.",
            new HistogramConfiguration { LabelNames = ["backend", "provider", "operation"], Buckets = VerifyBuckets });
        _storageErrors = _factory.CreateCounter("warren_storage_errors_total", "Failed operations on the artifact store and the module index.", ["backend", "provider", "operation"]);
    }

    /// <summary>This instance's registry (what /metrics exposes).</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Adds a gauge read when the metrics are collected (e.g. the in-use and waiting counts of a limit).</summary>
    public void Gauge(string name, string help, Func<long> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var gauge = _factory.CreateGauge(name, help);
        Registry.AddBeforeCollectCallback(() => gauge.Set(read()));
    }

    /// <summary>Records one storage operation's duration, and counts it as an error when it failed.</summary>
    public void StorageOperation(string backend, string provider, string operation, TimeSpan elapsed, bool failed)
    {
        _storageSeries.GetOrAdd((backend, provider, operation), static (key, family) => family.WithLabels(key.Backend, key.Provider, key.Operation), _storage)
            .Observe(elapsed.TotalSeconds);
        if (failed)
        {
            _storageErrors.WithLabels(backend, provider, operation).Inc();
        }
    }

    /// <summary>The last hour of traffic, per minute (the console's overview charts).</summary>
    public RecentActivity Recent { get; }

    public void Request(string route, int status)
    {
        _requestSeries.GetOrAdd((route, status), static (key, family) => family.WithLabels(key.Route, key.Status.ToString(CultureInfo.InvariantCulture)), _requests).Inc();
        if (route is not ("health" or "ready" or "metrics" or "console"))
        {
            Recent.Request(status >= 400);
        }
    }

    public void CacheHit(string kind)
    {
        Series(_hitSeries, _hits, kind).Inc();
        Recent.Hit();
    }

    public void CacheMiss(string kind)
    {
        Series(_missSeries, _misses, kind).Inc();
        Recent.Miss();
    }

    public void StaleServed(string kind) => Series(_staleSeries, _stale, kind).Inc();

    public void BytesServed(string kind, long bytes) => Series(_byteSeries, _bytes, kind).Inc(bytes);

    public void IngestRejected(string reason) => Series(_rejectedSeries, _rejected, reason).Inc();

    /// <summary>A destination refused by the outbound policy; reason is the refusal's classification.</summary>
    public void EgressDenied(string reason) => Series(_egressDeniedSeries, _egressDenied, reason).Inc();

    /// <summary>Refusals by the outbound policy so far (all reasons).</summary>
    public long EgressDeniedTotal => (long)_egressDeniedSeries.Values.Sum(c => c.Value);

    public void Coalesced() => _coalesced.Inc();

    /// <summary>A version stored whose .mod differs from its zip's go.mod while no checksum database vouches for it.</summary>
    public void ModDiffersFromZip() => _modDiffers.Inc();

    /// <summary>A zip response sent while the zip was fetched: complete (verified), or cut short.</summary>
    public void ZipStreamed(bool complete) => _streamedZips.WithLabels(complete ? "complete" : "cut").Inc();

    /// <summary>Zip responses sent while fetched, by result ("complete" or "cut").</summary>
    public double StreamedZips(string result) => _streamedZips.WithLabels(result).Value;

    /// <summary>Runs one upstream fetch counted as in flight, and records its duration and outcome under kind.</summary>
    public async Task<(FetchOutcome Outcome, TimeSpan Elapsed)> MeasureFetchAsync(string kind, Func<Task<FetchOutcome>> fetch)
    {
        ArgumentNullException.ThrowIfNull(fetch);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        _inFlight.Inc();
        FetchOutcome outcome;
        try
        {
            outcome = await fetch().ConfigureAwait(false);
        }
        finally
        {
            _inFlight.Dec();
        }

        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        UpstreamFetch(kind, outcome.Status, elapsed);
        return (outcome, elapsed);
    }

    public long InFlight => (long)_inFlight.Value;

    public void UpstreamFetch(string kind, FetchStatus outcome, TimeSpan elapsed)
    {
        var label = outcome switch
        {
            FetchStatus.Ok => "ok",
            FetchStatus.NotFound or FetchStatus.Gone => "not_found",
            _ => "error",
        };
        _fetchSeries.GetOrAdd((kind, label), static (key, family) => family.WithLabels(key.Kind, key.Outcome), _fetches).Observe(elapsed.TotalSeconds);
    }

    /// <summary>One checksum verification of a module's hashes: database is "sumdb" or "hosted"; outcome "ok",
    /// "first_use" (hosted: logged on first sight), "mismatch", "not_found", "failed", "invalid" or "fork".</summary>
    public void SumDbVerification(string database, string outcome, TimeSpan elapsed) =>
        _verifySeries.GetOrAdd((database, outcome), static (key, family) => family.WithLabels(key.Database, key.Outcome), _verifications).Observe(elapsed.TotalSeconds);

    /// <summary>Verifications of one outcome (all databases); used by tests.</summary>
    public long SumDbVerifications(string outcome) => _verifySeries.Where(kv => kv.Key.Outcome == outcome).Sum(kv => kv.Value.Count);

    public void ChecksumMismatch(string database) => Series(_mismatchSeries, _mismatches, database).Inc();

    public long ChecksumMismatches => (long)_mismatchSeries.Values.Sum(c => c.Value);

    /// <summary>Records appended to the hosted checksum database, and its size afterwards.</summary>
    public void HostedAppended(long count, long size)
    {
        _hostedAppends.Inc(count);
        _hostedRecords.Set(size);
    }

    public void HostedSize(long size) => _hostedRecords.Set(size);

    public void Followed(string outcome) => _followed.WithLabels(outcome).Inc();

    public void FollowLag(TimeSpan lag) => _followLag.Set(Math.Max(0, lag.TotalSeconds));

    /// <summary>Whether an upstream proxy is taken as up (its circuit breaker closed); upstream is its redacted name.</summary>
    public void UpstreamUp(string upstream, bool up) => _upstreamUp.WithLabels(upstream).Set(up ? 1 : 0);

    /// <summary>Total upstream fetches of one kind (all outcomes); used by tests and diagnostics.</summary>
    public long UpstreamFetches(string kind) => _fetchSeries.Where(kv => kv.Key.Kind == kind).Sum(kv => kv.Value.Count);

    /// <summary>Writes every metric in the Prometheus text exposition format (version 0.0.4).</summary>
    public Task WriteAsync(Stream destination, CancellationToken cancellationToken) =>
        Registry.CollectAndExportAsTextAsync(destination, ExpositionFormat.PrometheusText, cancellationToken);

    /// <summary>The Prometheus text exposition of every metric.</summary>
    public string Render()
    {
        using var buffer = new MemoryStream();

        // Collecting into memory never waits on I/O: the task is complete when it returns.
        WriteAsync(buffer, CancellationToken.None).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static Counter.Child Series(ConcurrentDictionary<string, Counter.Child> cache, Counter family, string label) =>
        cache.GetOrAdd(label, static (value, f) => f.WithLabels(value), family);
}

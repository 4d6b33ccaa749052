using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Warren.Server.Upstream;

namespace Warren.Server.Observability;

/// <summary>Counters, gauges and histograms, written in the Prometheus text exposition format.</summary>
public sealed class WarrenMetrics
{
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<(string Route, int Status), long> _requests = new();
    private readonly ConcurrentDictionary<string, long> _hits = new();
    private readonly ConcurrentDictionary<string, long> _misses = new();
    private readonly ConcurrentDictionary<string, long> _stale = new();
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private readonly ConcurrentDictionary<string, long> _rejected = new();
    private readonly ConcurrentDictionary<string, long> _egressDenied = new();
    private readonly ConcurrentDictionary<(string Kind, string Outcome), Histogram> _fetches = new();
    private static readonly double[] VerifyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly ConcurrentDictionary<(string Kind, string Outcome), Histogram> _verifications = new();
    private readonly ConcurrentDictionary<string, long> _mismatches = new();
    private long _hostedRecords;
    private long _hostedAppends;
    private long _inFlight;
    private long _coalesced;
    private long _modDiffers;

    private readonly ConcurrentQueue<(string Name, string Help, Func<long> Read)> _gauges = new();

    /// <summary>Adds a gauge read when the metrics are rendered (e.g. the in-use and waiting counts of a limit).</summary>
    public void Gauge(string name, string help, Func<long> read) => _gauges.Enqueue((name, help, read));

    public void Request(string route, int status) => _requests.AddOrUpdate((route, status), 1, static (_, v) => v + 1);

    public void CacheHit(string kind) => Add(_hits, kind, 1);

    public void CacheMiss(string kind) => Add(_misses, kind, 1);

    public void StaleServed(string kind) => Add(_stale, kind, 1);

    public void BytesServed(string kind, long bytes) => Add(_bytes, kind, bytes);

    public void IngestRejected(string reason) => Add(_rejected, reason, 1);

    /// <summary>A destination refused by the outbound policy; reason is the refusal's classification.</summary>
    public void EgressDenied(string reason) => Add(_egressDenied, reason, 1);

    /// <summary>Refusals by the outbound policy so far (all reasons).</summary>
    public long EgressDeniedTotal => _egressDenied.Values.Sum();

    public void Coalesced() => Interlocked.Increment(ref _coalesced);

    /// <summary>A version stored whose .mod differs from its zip's go.mod while no checksum database vouches for it.</summary>
    public void ModDiffersFromZip() => Interlocked.Increment(ref _modDiffers);

    /// <summary>Runs one upstream fetch counted as in flight, and records its duration and outcome under kind.</summary>
    public async Task<(FetchOutcome Outcome, TimeSpan Elapsed)> MeasureFetchAsync(string kind, Func<Task<FetchOutcome>> fetch)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _inFlight);
        FetchOutcome outcome;
        try
        {
            outcome = await fetch().ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }

        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        UpstreamFetch(kind, outcome.Status, elapsed);
        return (outcome, elapsed);
    }

    public long InFlight => Interlocked.Read(ref _inFlight);

    public void UpstreamFetch(string kind, FetchStatus outcome, TimeSpan elapsed)
    {
        var label = outcome switch
        {
            FetchStatus.Ok => "ok",
            FetchStatus.NotFound or FetchStatus.Gone => "not_found",
            _ => "error",
        };
        _fetches.GetOrAdd((kind, label), static _ => new Histogram(DurationBuckets.Length)).Observe(elapsed.TotalSeconds, DurationBuckets);
    }

    /// <summary>One checksum verification of a module's hashes: database is "sumdb" or "hosted"; outcome "ok",
    /// "first_use" (hosted: logged on first sight), "mismatch", "not_found", "failed", "invalid" or "fork".</summary>
    public void SumDbVerification(string database, string outcome, TimeSpan elapsed) =>
        _verifications.GetOrAdd((database, outcome), static _ => new Histogram(VerifyBuckets.Length)).Observe(elapsed.TotalSeconds, VerifyBuckets);

    /// <summary>Verifications of one outcome (all databases); used by tests.</summary>
    public long SumDbVerifications(string outcome) => _verifications.Where(kv => kv.Key.Outcome == outcome).Sum(kv => kv.Value.Count);

    public void ChecksumMismatch(string database) => Add(_mismatches, database, 1);

    public long ChecksumMismatches => _mismatches.Values.Sum();

    /// <summary>Records appended to the hosted checksum database, and its size afterwards.</summary>
    public void HostedAppended(long count, long size)
    {
        Interlocked.Add(ref _hostedAppends, count);
        Interlocked.Exchange(ref _hostedRecords, size);
    }

    public void HostedSize(long size) => Interlocked.Exchange(ref _hostedRecords, size);

    /// <summary>Total upstream fetches of one kind (all outcomes); used by tests and diagnostics.</summary>
    public long UpstreamFetches(string kind) => _fetches.Where(kv => kv.Key.Kind == kind).Sum(kv => kv.Value.Count);

    private static void Add(ConcurrentDictionary<string, long> map, string key, long delta) =>
        map.AddOrUpdate(key, delta, (_, v) => v + delta);

    public string Render()
    {
        var sb = new StringBuilder(4096);
        var ci = CultureInfo.InvariantCulture;
        Header(sb, "warren_http_requests_total", "counter", "HTTP requests by route and status.");
        foreach (var ((route, status), v) in _requests.OrderBy(k => k.Key.Route, StringComparer.Ordinal).ThenBy(k => k.Key.Status))
        {
            sb.Append(ci, $"warren_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {v}\n");
        }

        Counter(sb, "warren_cache_hits_total", "Requests answered from the store.", "kind", _hits);
        Counter(sb, "warren_cache_misses_total", "Requests that needed an upstream fetch.", "kind", _misses);
        Counter(sb, "warren_stale_served_total", "Expired list/latest answers served because upstream failed.", "kind", _stale);
        Counter(sb, "warren_bytes_served_total", "Response body bytes sent.", "kind", _bytes);
        Counter(sb, "warren_ingest_rejected_total", "Upstream artifacts refused by integrity checks.", "reason", _rejected);
        Counter(sb, "warren_egress_denied_total", "Outbound connections and redirects refused by the egress policy.", "reason", _egressDenied);
        Header(sb, "warren_mod_differs_from_zip_total", "counter", "Versions stored with a .mod that differs from the zip's go.mod, no checksum database vouching.");
        sb.Append(ci, $"warren_mod_differs_from_zip_total {Interlocked.Read(ref _modDiffers)}\n");
        Header(sb, "warren_coalesced_requests_total", "counter", "Requests that waited on another request's upstream fetch.");
        sb.Append(ci, $"warren_coalesced_requests_total {Interlocked.Read(ref _coalesced)}\n");
        Header(sb, "warren_upstream_fetches_in_flight", "gauge", "Upstream fetches under way.");
        sb.Append(ci, $"warren_upstream_fetches_in_flight {InFlight}\n");

        Histograms(sb, "warren_upstream_fetch_duration_seconds", "Upstream fetches by kind and outcome.", "kind", _fetches, DurationBuckets);
        Histograms(sb, "warren_sumdb_verify_duration_seconds", "Checksum verifications of ingested modules by database and outcome.", "database", _verifications, VerifyBuckets);
        Counter(sb, "warren_checksum_mismatches_total", "Modules refused because their hashes differ from the checksum database.", "database", _mismatches);
        Header(sb, "warren_hosted_sumdb_records", "gauge", "Records in the hosted checksum database.");
        sb.Append(ci, $"warren_hosted_sumdb_records {Interlocked.Read(ref _hostedRecords)}\n");
        Header(sb, "warren_hosted_sumdb_appends_total", "counter", "Records appended to the hosted checksum database by this process.");
        sb.Append(ci, $"warren_hosted_sumdb_appends_total {Interlocked.Read(ref _hostedAppends)}\n");
        foreach (var (name, help, read) in _gauges)
        {
            Header(sb, name, "gauge", help);
            sb.Append(ci, $"{name} {read()}\n");
        }

        return sb.ToString();
    }

    private static void Histograms(StringBuilder sb, string name, string help, string firstLabel,
        ConcurrentDictionary<(string Kind, string Outcome), Histogram> map, double[] bounds)
    {
        var ci = CultureInfo.InvariantCulture;
        Header(sb, name, "histogram", help);
        foreach (var ((kind, outcome), h) in map.OrderBy(k => k.Key.Kind, StringComparer.Ordinal).ThenBy(k => k.Key.Outcome, StringComparer.Ordinal))
        {
            var labels = $"{firstLabel}=\"{kind}\",outcome=\"{outcome}\"";
            var (counts, count, sum) = h.Snapshot();
            long cumulative = 0;
            for (var i = 0; i < bounds.Length; i++)
            {
                cumulative += counts[i];
                sb.Append(ci, $"{name}_bucket{{{labels},le=\"{bounds[i]}\"}} {cumulative}\n");
            }

            sb.Append(ci, $"{name}_bucket{{{labels},le=\"+Inf\"}} {count}\n");
            sb.Append(ci, $"{name}_sum{{{labels}}} {sum}\n");
            sb.Append(ci, $"{name}_count{{{labels}}} {count}\n");
        }
    }

    private static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Counter(StringBuilder sb, string name, string help, string label, ConcurrentDictionary<string, long> map)
    {
        Header(sb, name, "counter", help);
        foreach (var (key, v) in map.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            sb.Append(CultureInfo.InvariantCulture, $"{name}{{{label}=\"{key}\"}} {v}\n");
        }
    }

    private sealed class Histogram(int buckets)
    {
        private readonly long[] _counts = new long[buckets + 1];
        private readonly Lock _lock = new();
        private long _count;
        private double _sum;

        public long Count
        {
            get
            {
                lock (_lock)
                {
                    return _count;
                }
            }
        }

        public void Observe(double value, double[] bounds)
        {
            var i = 0;
            while (i < bounds.Length && value > bounds[i])
            {
                i++;
            }

            lock (_lock)
            {
                _counts[i]++;
                _count++;
                _sum += value;
            }
        }

        public (long[] Counts, long Count, double Sum) Snapshot()
        {
            lock (_lock)
            {
                return ((long[])_counts.Clone(), _count, _sum);
            }
        }
    }
}

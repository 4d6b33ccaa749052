using Prometheus;

namespace Warren.Server.Vulns;

/// <summary>The vulnerability database mirror's counters, in Warren's own registry:
/// warren_vulndb_refreshes_total{result} (ok: a new copy, not_modified: the source had nothing new, failed),
/// warren_vulndb_entries_fetched_total (changed entries read from the source; a vulndb.zip counts once), warren_vulndb_stale_serves_total
/// (/vuln/ files served from the last good copy while the latest refresh had failed) and
/// warren_vulndb_requests_total{result} (/vuln/ requests: served, not_found, unavailable or rejected). Every series
/// exists from the start, at zero.</summary>
public sealed class VulnDbMetrics
{
    private readonly Counter.Child _refreshOk;
    private readonly Counter.Child _refreshNotModified;
    private readonly Counter.Child _refreshFailed;
    private readonly Counter _entriesFetched;
    private readonly Counter _staleServes;
    private readonly Counter.Child _served;
    private readonly Counter.Child _notFound;
    private readonly Counter.Child _unavailable;
    private readonly Counter.Child _rejected;

    public VulnDbMetrics(WarrenMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        var refreshes = factory.CreateCounter("warren_vulndb_refreshes_total",
            "Refreshes of the vulnerability database mirror from its source: result is ok (a new copy was loaded), not_modified (nothing new) or failed (the last good copy stays served).",
            ["result"]);
        _refreshOk = refreshes.WithLabels("ok");
        _refreshNotModified = refreshes.WithLabels("not_modified");
        _refreshFailed = refreshes.WithLabels("failed");
        _entriesFetched = factory.CreateCounter("warren_vulndb_entries_fetched_total",
            "Files read from the vulnerability database source by refreshes that loaded a new copy: changed entries (ID/ID.json), or 1 for a whole vulndb.zip.");
        _staleServes = factory.CreateCounter("warren_vulndb_stale_serves_total",
            "Files of /vuln/ served from the last good copy while the latest refresh from the source had failed.");
        var requests = factory.CreateCounter("warren_vulndb_requests_total",
            "Requests under /vuln/: result is served (a file of the database, 304 included), not_found, unavailable (no copy yet) or rejected (a malformed request).",
            ["result"]);
        _served = requests.WithLabels("served");
        _notFound = requests.WithLabels("not_found");
        _unavailable = requests.WithLabels("unavailable");
        _rejected = requests.WithLabels("rejected");
    }

    public void RefreshLoaded(int fetched)
    {
        _refreshOk.Inc();
        _entriesFetched.Inc(fetched);
    }

    public void RefreshNotModified() => _refreshNotModified.Inc();

    public void RefreshFailed() => _refreshFailed.Inc();

    /// <summary>Counts a /vuln/ request by its status; stale: served from a copy the latest refresh failed to replace.</summary>
    public void Request(int status, bool stale)
    {
        switch (status)
        {
            case < 400:
                _served.Inc();
                if (stale)
                {
                    _staleServes.Inc();
                }

                break;
            case 404:
                _notFound.Inc();
                break;
            case 503:
                _unavailable.Inc();
                break;
            default:
                _rejected.Inc();
                break;
        }
    }
}

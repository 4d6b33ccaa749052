using Warren.Core.Limits;
using Warren.Server.Ingest;

namespace Warren.Server.Upstream;

/// <summary>The process-wide limits on outbound work: concurrent HTTP fetches (upstream proxies, go-get discovery) and
/// concurrent git processes, whatever host or repository they are for. Their use is shown in /metrics.</summary>
public sealed class ResourceLimits : IDisposable
{
    public ResourceLimits(IOptions<WarrenOptions> options, WarrenMetrics metrics, SmallArtifactCache small, NegativeCache negative, Endpoints.OpenFileCache openFiles)
    {
        var o = options.Value;
        Fetches = new ConcurrencyGate(o.MaxConcurrentFetches);
        GitProcesses = new ConcurrencyGate(o.MaxGitProcesses);
        metrics.Gauge("warren_outbound_fetches_in_use", "Outbound HTTP fetches running (limit --max-concurrent-fetches).", () => Fetches.InUse);
        metrics.Gauge("warren_outbound_fetches_waiting", "Outbound HTTP fetches waiting for a slot.", () => Fetches.Waiting);
        metrics.Gauge("warren_git_processes_in_use", "git processes running (limit --max-git-processes).", () => GitProcesses.InUse);
        metrics.Gauge("warren_git_processes_waiting", "git processes waiting for a slot.", () => GitProcesses.Waiting);
        metrics.Gauge("warren_memory_cache_bytes", "Bytes of small artifacts held in memory.", () => small.Bytes);
        metrics.Gauge("warren_memory_cache_entries", "Small artifacts held in memory.", () => small.Count);
        metrics.Gauge("warren_negative_cache_entries", "Remembered \"not found\" answers.", () => negative.Count);
        metrics.Gauge("warren_open_files", "Stored files held open for serving.", () => openFiles.Count);
    }

    /// <summary>Outbound HTTP requests at once (<see cref="WarrenOptions.MaxConcurrentFetches"/>).</summary>
    public ConcurrencyGate Fetches { get; }

    /// <summary>git processes at once (<see cref="WarrenOptions.MaxGitProcesses"/>).</summary>
    public ConcurrencyGate GitProcesses { get; }

    public void Dispose()
    {
        Fetches.Dispose();
        GitProcesses.Dispose();
    }
}

using Microsoft.Extensions.Hosting;
using Warren.Server.Upstream;

namespace Warren.Server.Ingest;

/// <summary>Asks the upstream chain at most once at a time per key: concurrent callers share the fetch and what is
/// done with its body, "not found" is remembered for the negative TTL so a storm of misses does not hammer upstream,
/// and a failed fetch becomes an <see cref="Outcome"/>. The work runs under the server's lifetime, not a request's.</summary>
public sealed class UpstreamFetcher(UpstreamChain chain, NegativeCache negative, ClusterFlights cluster, IModuleIndex index, TimeProvider time, WarrenMetrics metrics,
    IOptions<WarrenOptions> options, IHostApplicationLifetime lifetime, ILogger<UpstreamFetcher> logger)
{
    private readonly TimeSpan _negativeTtl = options.Value.NegativeTtl;
    private readonly SingleFlight<FlightResult> _flights = new();

    /// <summary>The server's lifetime: what shared work runs under.</summary>
    public CancellationToken Lifetime { get; } = lifetime.ApplicationStopping;

    /// <summary>Fetches request into a staged file and hands it (with the name of the source that sent it) to use, once
    /// for all concurrent callers with this key; the staged file is deleted afterwards. A remembered "not found" is
    /// answered without asking upstream. label names the request in the cache metrics. In a cluster, one node at a time
    /// fetches a key (<see cref="ClusterFlights"/>); shared tells what another node has produced meanwhile.</summary>
    internal async Task<FlightResult> FetchAsync(string key, string label, ModuleRequest request, Func<string> newStagingFile,
        Func<string, string, Task<FlightResult>> use, Func<CancellationToken, Task<FlightResult?>> shared, CancellationToken cancellationToken)
    {
        if (negative.TryGet(key, out var remembered))
        {
            return remembered;
        }

        if (await SharedNegativeAsync(key, cancellationToken).ConfigureAwait(false) is { } learned)
        {
            return learned;
        }

        metrics.CacheMiss(label);
        var flight = await _flights.RunAsync(key, () => cluster.RunAsync(key, shared, () => FetchAndUseAsync(key, request, newStagingFile, use), Lifetime),
            cancellationToken, out var joined).ConfigureAwait(false);
        if (joined)
        {
            metrics.Coalesced();
        }

        return flight;
    }

    private async Task<FlightResult> FetchAndUseAsync(string key, ModuleRequest request, Func<string> newStagingFile, Func<string, string, Task<FlightResult>> use)
    {
        var result = await chain.FetchAsync(request, newStagingFile, Lifetime).ConfigureAwait(false);
        if (!result.Outcome.IsOk)
        {
            return await FailureAsync(key, request, result.Outcome).ConfigureAwait(false);
        }

        try
        {
            return await use(result.File!, result.Outcome.Source).ConfigureAwait(false);
        }
        finally
        {
            UpstreamChain.TryDelete(result.File!);
        }
    }

    private async Task<Outcome> FailureAsync(string key, ModuleRequest request, FetchOutcome outcome)
    {
        if (outcome.IsNotFound)
        {
            // The kind is already known; this only keeps the body from saying "not found" twice when upstream's reason
            // begins with it (as proxy.golang.org's do).
            var message = outcome.Reason.StartsWith("not found", StringComparison.OrdinalIgnoreCase) || outcome.Reason.StartsWith("gone", StringComparison.OrdinalIgnoreCase)
                ? outcome.Reason
                : "not found: " + outcome.Reason;
            var missing = Outcome.FromFetch(outcome, message);
            negative.Add(key, missing, _negativeTtl);
            if (cluster.IsShared && _negativeTtl > TimeSpan.Zero)
            {
                // The other nodes learn it too, before anyone is answered.
                await index.PutNegativeAsync(key, new NegativeAnswer(missing.Kind.ToString(), missing.Message, time.GetUtcNow() + _negativeTtl), Lifetime).ConfigureAwait(false);
            }

            return missing;
        }

        Log.UpstreamFailed(logger, request.ToString(), outcome.Status, outcome.Reason);
        return Outcome.FromFetch(outcome, $"upstream failed: {outcome.Reason}");
    }

    /// <summary>In a cluster, a "not found" another node learned and put in the shared index, while it lasts.</summary>
    private async Task<Outcome?> SharedNegativeAsync(string key, CancellationToken cancellationToken)
    {
        if (!cluster.IsShared || await index.GetNegativeAsync(key, time.GetUtcNow(), cancellationToken).ConfigureAwait(false) is not { } shared ||
            !Enum.TryParse<OutcomeKind>(shared.Kind, out var kind))
        {
            return null;
        }

        var outcome = new Outcome(kind, shared.Reason);
        negative.Add(key, outcome, shared.Expires - time.GetUtcNow());
        return outcome;
    }
}

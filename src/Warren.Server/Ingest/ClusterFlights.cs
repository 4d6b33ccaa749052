namespace Warren.Server.Ingest;

/// <summary>Single-flight across the nodes of a cluster: the first node to want a key takes a lease in the shared
/// index and does the work; the others wait for its result to appear (an object in the store, a fresh answer in the
/// index) and serve that. A lease whose holder died expires and another node takes over; the holder renews its lease
/// while it works. Without a shared index (one node) it only runs the work: the in-process flights coalesce already.</summary>
public sealed class ClusterFlights(ILeaseProvider? leases, TimeSpan leaseDuration, TimeProvider time, ILogger<ClusterFlights> logger)
{
    /// <summary>How long a lease lasts unless renewed; the holder renews it every third of that.</summary>
    public TimeSpan LeaseDuration { get; } = leaseDuration;

    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(500);

    /// <summary>True when the flights span several nodes.</summary>
    public bool IsShared => leases is not null;

    /// <summary>Runs work under the cluster-wide lease of key, unless shared (what another node produced) answers first.</summary>
    internal async Task<FlightResult> RunAsync(string key, Func<CancellationToken, Task<FlightResult?>> shared, Func<Task<FlightResult>> work,
        CancellationToken cancellationToken)
    {
        if (leases is null)
        {
            return await work().ConfigureAwait(false);
        }

        var poll = FirstPoll;
        var waited = false;
        while (true)
        {
            var lease = await leases.TryAcquireAsync("flight:" + key, LeaseDuration, cancellationToken).ConfigureAwait(false);
            if (lease is not null)
            {
                await using (lease.ConfigureAwait(false))
                {
                    // Another node may have finished between our last look and the lease.
                    if (await shared(cancellationToken).ConfigureAwait(false) is { } done)
                    {
                        return done;
                    }

                    if (waited)
                    {
                        Log.LeaseTakenOver(logger, key, lease.FencingToken);
                    }

                    using var renewing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    var renewal = RenewWhileWorkingAsync(lease, renewing.Token);
                    try
                    {
                        return await work().ConfigureAwait(false);
                    }
                    finally
                    {
                        await renewing.CancelAsync().ConfigureAwait(false);
                        await renewal.ConfigureAwait(false);
                    }
                }
            }

            // Another node holds it: wait for what it produces, or for its lease to end.
            waited = true;
            if (await shared(cancellationToken).ConfigureAwait(false) is { } theirs)
            {
                return theirs;
            }

            await Task.Delay(poll, time, cancellationToken).ConfigureAwait(false);
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, MaxPoll.Ticks));
        }
    }

    private async Task RenewWhileWorkingAsync(ILease lease, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(LeaseDuration / 3, time, cancellationToken).ConfigureAwait(false);
                if (!await lease.RenewAsync(LeaseDuration, cancellationToken).ConfigureAwait(false))
                {
                    // Lost (this node stalled past the expiry): another node may take over; our commit stays
                    // put-if-absent, so the worst case is one extra fetch.
                    Log.LeaseLost(logger, lease.Key, lease.FencingToken);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
#pragma warning disable CA1031 // A failed renewal must not fail the work it guards; the lease then simply expires.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.LeaseRenewFailed(logger, lease.Key, ex);
        }
    }
}

using Microsoft.Extensions.Hosting;
using Warren.Protocol;
using Warren.Server.Storage;
using Warren.Storage.Postgres;
using Warren.Storage.Sqlite;

namespace Warren.Server;

/// <summary>At start-up: remove what an interrupted run left in staging, bring the index up to date (tree heads kept
/// in files by earlier versions), open the hosted checksum database's log, and say what is served.</summary>
internal sealed class StartupTasks(StagingArea staging, StoreLock storeLock, LocalObjectCache localCopies, IndexRefill refill, IModuleIndex index, ProtocolSettings settings, SumDb.HostedSumDb hosted,
    IHostApplicationLifetime lifetime, IOptions<WarrenOptions> options, ILogger<StartupTasks> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A shared index brings its schema up to date first (safely when several nodes start at once).
        if (Unwrap(index) is PostgresModuleIndex postgres)
        {
            await postgres.MigrateAsync(cancellationToken).ConfigureAwait(false);
        }

        var removed = staging.CleanStale();
        if (removed > 0)
        {
            Log.CleanedStaging(logger, removed);
        }

        localCopies.Load();
        WatchRecreations();
        foreach (var database in new[] { settings.SumDb?.Name, settings.ProxiedSumDb?.Name }.OfType<string>().Distinct(StringComparer.Ordinal))
        {
            await refill.ImportTreeHeadFileAsync(storeLock.Root, database, cancellationToken).ConfigureAwait(false);
        }

        await hosted.OpenAsync(cancellationToken).ConfigureAwait(false);
        var o = options.Value;
        Log.Starting(logger, o.Root!, Fetch.Direct.Git.SecretRedactor.RedactText(o.Upstream!), Fetch.Direct.Git.SecretRedactor.RedactText(o.SumDb!));
        if (o.Offline)
        {
            Log.Offline(logger, o.Root!);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>An embedded index is a cache of what the store holds: each time it is recreated (a corrupt one moved
    /// aside, at start-up or later), its artifact records are refilled from the store in the background.</summary>
    private void WatchRecreations()
    {
        if (Unwrap(index) is not SqliteModuleIndex sqlite)
        {
            return;
        }

        var stopping = lifetime.ApplicationStopping;
        var pending = sqlite.Recreations > 0 ? Task.CompletedTask : sqlite.WhenRecreated;
        _ = Task.Run(async () =>
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await pending.WaitAsync(stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                pending = sqlite.WhenRecreated;
                await refill.RefillAsync(stopping).ConfigureAwait(false);
            }
        }, stopping);
    }

    private static IModuleIndex Unwrap(IModuleIndex index) => index is InstrumentedModuleIndex m ? m.Inner : index;
}

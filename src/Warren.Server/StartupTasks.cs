using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Warren.Server.Configuration;
using Warren.Server.Observability;
using Warren.Server.Storage;

namespace Warren.Server;

/// <summary>At start-up: remove what an interrupted run left in staging, open the index and the hosted checksum
/// database's log (taking its single-writer lock), and say what is served.</summary>
internal sealed class StartupTasks(IModuleStore store, MetadataIndex index, SumDb.HostedSumDb hosted, IOptions<WarrenOptions> options, ILogger<StartupTasks> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var removed = store.CleanStaging();
        if (removed > 0)
        {
            Log.CleanedStaging(logger, removed);
        }

        _ = index;
        await hosted.OpenAsync(cancellationToken).ConfigureAwait(false);
        var o = options.Value;
        Log.Starting(logger, o.Root!, Fetch.Direct.Git.SecretRedactor.RedactText(o.Upstream!), Fetch.Direct.Git.SecretRedactor.RedactText(o.SumDb!));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

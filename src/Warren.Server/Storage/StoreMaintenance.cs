using Microsoft.Extensions.Hosting;
using Warren.Fetch.Direct.Git;

namespace Warren.Server.Storage;

/// <summary>Every <see cref="WarrenOptions.MaintenanceInterval"/> (on the injected clock): deletes the index's cached
/// answers older than <see cref="WarrenOptions.AnswersMaxAge"/> or beyond <see cref="WarrenOptions.AnswersMaxCount"/>,
/// and prunes the git mirrors to their quota and idle limit.</summary>
public sealed class StoreMaintenance(IServiceProvider services, IModuleIndex index, TimeProvider time, IOptions<WarrenOptions> options, ILogger<StoreMaintenance> logger)
    : BackgroundService
{
    private readonly WarrenOptions _options = options.Value;

    /// <summary>One round of pruning; returns (answers deleted, mirrors deleted).</summary>
    public async Task<(int Answers, int Mirrors)> RunOnceAsync(CancellationToken cancellationToken)
    {
        var answers = await index.PruneAnswersAsync(time.GetUtcNow() - _options.AnswersMaxAge, _options.AnswersMaxCount, cancellationToken).ConfigureAwait(false);
        if (answers > 0)
        {
            Log.AnswersPruned(logger, answers);
        }

        var mirrors = 0;
        if (_options.MirrorQuota is not null || _options.MirrorMaxIdle is not null)
        {
            mirrors = await services.GetRequiredService<GitMirrorManager>().PruneAsync(cancellationToken).ConfigureAwait(false);
        }

        return (answers, mirrors);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.MaintenanceInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.MaintenanceFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

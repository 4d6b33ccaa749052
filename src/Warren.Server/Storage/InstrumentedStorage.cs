using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Warren.Server.Storage;

/// <summary>Times every operation of a storage provider into /metrics (warren_storage_operation_duration_seconds,
/// warren_storage_errors_total), so the latency and the errors of S3 and PostgreSQL show next to everything else.</summary>
internal abstract class StorageMeter(WarrenMetrics metrics, string backend, string provider)
{
    protected async Task<T> MeasureAsync<T>(string operation, Func<Task<T>> run, Func<T, bool>? isFailure = null)
    {
        var started = Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            var result = await run().ConfigureAwait(false);
            failed = isFailure?.Invoke(result) ?? false;
            return result;
        }
        catch (OperationCanceledException)
        {
            failed = false;
            throw;
        }
        finally
        {
            metrics.StorageOperation(backend, provider, operation, Stopwatch.GetElapsedTime(started), failed);
        }
    }

    protected async Task MeasureAsync(string operation, Func<Task> run) =>
        await MeasureAsync<bool>(operation, async () =>
        {
            await run().ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
}

/// <summary>An <see cref="IArtifactStore"/> whose operations are measured.</summary>
internal sealed class InstrumentedArtifactStore(IArtifactStore inner, WarrenMetrics metrics, string provider)
    : StorageMeter(metrics, "store", provider), IArtifactStore
{
    public IArtifactStore Inner => inner;

    public string Location => inner.Location;

    public async ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken) =>
        await MeasureAsync("get", () => inner.GetAsync(key, cancellationToken).AsTask()).ConfigureAwait(false);

    public async ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken) =>
        await MeasureAsync("exists", () => inner.ExistsAsync(key, cancellationToken).AsTask()).ConfigureAwait(false);

    public async ValueTask<bool> PutIfAbsentAsync(string key, string stagedFile, CancellationToken cancellationToken) =>
        await MeasureAsync("put", () => inner.PutIfAbsentAsync(key, stagedFile, cancellationToken).AsTask()).ConfigureAwait(false);

    public async ValueTask<bool> PutIfAbsentAsync(string key, Stream content, CancellationToken cancellationToken) =>
        await MeasureAsync("put", () => inner.PutIfAbsentAsync(key, content, cancellationToken).AsTask()).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<bool>> PutManyIfAbsentAsync(IReadOnlyList<(string Key, string StagedFile)> files, CancellationToken cancellationToken) =>
        await MeasureAsync("put_many", () => inner.PutManyIfAbsentAsync(files, cancellationToken).AsTask()).ConfigureAwait(false);

    public async ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken) =>
        await MeasureAsync("delete", () => inner.DeleteAsync(key, cancellationToken).AsTask()).ConfigureAwait(false);

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var key in inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return key;
        }
    }

    public async ValueTask<string?> ProbeAsync(CancellationToken cancellationToken) =>
        await MeasureAsync("probe", () => inner.ProbeAsync(cancellationToken).AsTask(), reason => reason is not null).ConfigureAwait(false);
}

/// <summary>An <see cref="IModuleIndex"/> whose operations are measured.</summary>
internal sealed class InstrumentedModuleIndex(IModuleIndex inner, WarrenMetrics metrics, string provider)
    : StorageMeter(metrics, "index", provider), IModuleIndex
{
    public IModuleIndex Inner => inner;

    public string Location => inner.Location;

    public Task RecordArtifactAsync(ArtifactRecord record, CancellationToken cancellationToken) =>
        MeasureAsync("record_artifact", () => inner.RecordArtifactAsync(record, cancellationToken));

    public Task RecordArtifactsAsync(IReadOnlyList<ArtifactRecord> records, CancellationToken cancellationToken) =>
        MeasureAsync("record_artifacts", () => inner.RecordArtifactsAsync(records, cancellationToken));

    public Task<ArtifactRecord?> GetArtifactAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken) =>
        MeasureAsync("get_artifact", () => inner.GetArtifactAsync(modulePath, version, kind, cancellationToken));

    public Task<IReadOnlyList<string>> ListVersionsAsync(string modulePath, CancellationToken cancellationToken) =>
        MeasureAsync("list_versions", () => inner.ListVersionsAsync(modulePath, cancellationToken));

    public Task<IReadOnlyList<FeedEntry>> ReadFeedAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) =>
        MeasureAsync("read_feed", () => inner.ReadFeedAsync(since, limit, cancellationToken));

    public Task RecordVerificationAsync(VersionVerification verification, CancellationToken cancellationToken) =>
        MeasureAsync("record_verification", () => inner.RecordVerificationAsync(verification, cancellationToken));

    public Task<IReadOnlyList<VersionVerification>> ReadVerificationsAsync(string modulePath, CancellationToken cancellationToken) =>
        MeasureAsync("read_verifications", () => inner.ReadVerificationsAsync(modulePath, cancellationToken));

    public Task<IndexStats> GetStatsAsync(CancellationToken cancellationToken) =>
        MeasureAsync("stats", () => inner.GetStatsAsync(cancellationToken));

    public Task RecordNodeAsync(NodeHeartbeat heartbeat, DateTimeOffset forgetBefore, CancellationToken cancellationToken) =>
        MeasureAsync("record_node", () => inner.RecordNodeAsync(heartbeat, forgetBefore, cancellationToken));

    public Task<IReadOnlyList<NodeHeartbeat>> ReadNodesAsync(CancellationToken cancellationToken) =>
        MeasureAsync("read_nodes", () => inner.ReadNodesAsync(cancellationToken));

    public Task<int> OpenSessionAsync(ConsoleSessionRecord session, DateTimeOffset now, int maxSessions, CancellationToken cancellationToken) =>
        MeasureAsync("open_session", () => inner.OpenSessionAsync(session, now, maxSessions, cancellationToken));

    public Task<ConsoleSessionRecord?> GetSessionAsync(byte[] key, CancellationToken cancellationToken) =>
        MeasureAsync("get_session", () => inner.GetSessionAsync(key, cancellationToken));

    public Task<string?> EndSessionAsync(byte[] key, CancellationToken cancellationToken) =>
        MeasureAsync("end_session", () => inner.EndSessionAsync(key, cancellationToken));

    public Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken) =>
        MeasureAsync("secret", () => inner.GetOrAddSecretAsync(name, candidate, cancellationToken));

    public Task<IReadOnlyList<ModuleMatch>> SearchModulesAsync(string query, string? after, int limit, CancellationToken cancellationToken) =>
        MeasureAsync("search_modules", () => inner.SearchModulesAsync(query, after, limit, cancellationToken));

    public Task<string?> GetCursorAsync(string name, CancellationToken cancellationToken) =>
        MeasureAsync("get_cursor", () => inner.GetCursorAsync(name, cancellationToken));

    public Task SetCursorAsync(string name, string cursor, CancellationToken cancellationToken) =>
        MeasureAsync("set_cursor", () => inner.SetCursorAsync(name, cursor, cancellationToken));

    public Task RecordUsageAsync(IReadOnlyCollection<VersionUsage> batch, CancellationToken cancellationToken) =>
        MeasureAsync("record_usage", () => inner.RecordUsageAsync(batch, cancellationToken));

    public Task<IReadOnlyList<VersionUsage>> ReadUsageAsync(CancellationToken cancellationToken) =>
        MeasureAsync("read_usage", () => inner.ReadUsageAsync(cancellationToken));

    public Task RecordEvictionsAsync(IReadOnlyCollection<(string ModulePath, string Version)> versions, DateTimeOffset evictedAt, CancellationToken cancellationToken) =>
        MeasureAsync("record_evictions", () => inner.RecordEvictionsAsync(versions, evictedAt, cancellationToken));

    public Task<CachedAnswer?> GetAnswerAsync(string key, CancellationToken cancellationToken) =>
        MeasureAsync("get_answer", () => inner.GetAnswerAsync(key, cancellationToken));

    public Task PutAnswerAsync(string key, byte[] body, DateTimeOffset fetchedAt, CancellationToken cancellationToken) =>
        MeasureAsync("put_answer", () => inner.PutAnswerAsync(key, body, fetchedAt, cancellationToken));

    public Task<int> PruneAnswersAsync(DateTimeOffset olderThan, int maxCount, CancellationToken cancellationToken) =>
        MeasureAsync("prune_answers", () => inner.PruneAnswersAsync(olderThan, maxCount, cancellationToken));

    public Task<long> CountAnswersAsync(CancellationToken cancellationToken) =>
        MeasureAsync("count_answers", () => inner.CountAnswersAsync(cancellationToken));

    public Task<NegativeAnswer?> GetNegativeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) =>
        MeasureAsync("get_negative", () => inner.GetNegativeAsync(key, now, cancellationToken));

    public Task PutNegativeAsync(string key, NegativeAnswer answer, CancellationToken cancellationToken) =>
        MeasureAsync("put_negative", () => inner.PutNegativeAsync(key, answer, cancellationToken));

    public Task RemoveNegativeAsync(string key, CancellationToken cancellationToken) =>
        MeasureAsync("remove_negative", () => inner.RemoveNegativeAsync(key, cancellationToken));

    public Task<byte[]?> GetTreeHeadAsync(string database, CancellationToken cancellationToken) =>
        MeasureAsync("get_tree_head", () => inner.GetTreeHeadAsync(database, cancellationToken));

    public Task<bool> TryAdvanceTreeHeadAsync(string database, byte[]? expected, byte[] next, CancellationToken cancellationToken) =>
        MeasureAsync("advance_tree_head", () => inner.TryAdvanceTreeHeadAsync(database, expected, next, cancellationToken));

    public Task<IHostedLogStorage> OpenHostedLogAsync(string logName, CancellationToken cancellationToken) =>
        MeasureAsync("open_hosted_log", () => inner.OpenHostedLogAsync(logName, cancellationToken));

    public Task RecordDownloadsAsync(IReadOnlyCollection<DownloadCount> batch, CancellationToken cancellationToken) =>
        MeasureAsync("record_downloads", () => inner.RecordDownloadsAsync(batch, cancellationToken));

    public Task<IReadOnlyList<DownloadCount>> ReadDownloadsAsync(DateOnly since, string? modulePath, CancellationToken cancellationToken) =>
        MeasureAsync("read_downloads", () => inner.ReadDownloadsAsync(since, modulePath, cancellationToken));

    public Task<int> PruneDownloadsAsync(DateOnly before, CancellationToken cancellationToken) =>
        MeasureAsync("prune_downloads", () => inner.PruneDownloadsAsync(before, cancellationToken));

    public Task<int> EnqueueAlertsAsync(IReadOnlyCollection<AlertEntry> alerts, CancellationToken cancellationToken) =>
        MeasureAsync("enqueue_alerts", () => inner.EnqueueAlertsAsync(alerts, cancellationToken));

    public Task<IReadOnlyList<AlertEntry>> ClaimAlertsAsync(string claimer, DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken) =>
        MeasureAsync("claim_alerts", () => inner.ClaimAlertsAsync(claimer, now, lease, max, cancellationToken));

    public Task CompleteAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, DateTimeOffset sentAt, CancellationToken cancellationToken) =>
        MeasureAsync("complete_alerts", () => inner.CompleteAlertsAsync(alerts, sentAt, cancellationToken));

    public Task DeferAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken) =>
        MeasureAsync("defer_alerts", () => inner.DeferAlertsAsync(alerts, nextAttempt, error, cancellationToken));

    public Task<DateTimeOffset?> NextAlertAttemptAsync(CancellationToken cancellationToken) =>
        MeasureAsync("next_alert_attempt", () => inner.NextAlertAttemptAsync(cancellationToken));

    public Task<IReadOnlyList<AlertEntry>> ReadAlertsAsync(CancellationToken cancellationToken) =>
        MeasureAsync("read_alerts", () => inner.ReadAlertsAsync(cancellationToken));

    public Task<string?> ProbeAsync(CancellationToken cancellationToken) =>
        MeasureAsync("probe", () => inner.ProbeAsync(cancellationToken), reason => reason is not null);
}

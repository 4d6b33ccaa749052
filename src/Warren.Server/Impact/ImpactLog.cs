namespace Warren.Server.Observability;

/// <summary>Log messages of download records, the impact report and the alert webhook (event ids 8000-8049).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 8000, Level = LogLevel.Debug, Message = "Wrote {Count} download counts to the index")]
    public static partial void DownloadsFlushed(ILogger logger, int count);

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Pruned {Count} download counts of days before {Before} (retention {Retention})")]
    public static partial void DownloadsPruned(ILogger logger, int count, DateOnly before, string retention);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Download records failed; trying again later")]
    public static partial void DownloadRecordsFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Warning, Message = "Dropped {Count} download counts: more than {Max} were waiting for the index")]
    public static partial void DownloadsDropped(ILogger logger, long count, int max);

    [LoggerMessage(EventId = 8010, Level = LogLevel.Information, Message = "Alert webhook: {Count} new (advisory, version) alerts queued from {Advisories} changed advisories")]
    public static partial void AlertsQueued(ILogger logger, int count, int advisories);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Information, Message = "Alert webhook: sent {Advisory} for {Versions} versions to {Url} (HTTP {Status})")]
    public static partial void AlertSent(ILogger logger, string advisory, int versions, string url, int status);

    [LoggerMessage(EventId = 8012, Level = LogLevel.Warning, Message = "Alert webhook: sending {Advisory} to {Url} failed (attempt {Attempt}): {Reason}; retrying at {Next:o}")]
    public static partial void AlertFailed(ILogger logger, string advisory, string url, int attempt, string reason, DateTimeOffset next);

    [LoggerMessage(EventId = 8013, Level = LogLevel.Error, Message = "Alert webhook: {Url} refused by the egress policy: {Reason}; allow it with --egress-allow (retrying at {Next:o})")]
    public static partial void AlertRefusedByEgress(ILogger logger, string url, string reason, DateTimeOffset next);

    [LoggerMessage(EventId = 8014, Level = LogLevel.Warning, Message = "Alert webhook failed; trying again later")]
    public static partial void AlertLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8015, Level = LogLevel.Information, Message = "Alert webhook: events go to {Url}")]
    public static partial void AlertWebhookOn(ILogger logger, string url);
}

namespace Warren.Server.Observability;

/// <summary>Retention's log messages (event ids 7500-7549).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7500, Level = LogLevel.Debug, Message = "Wrote the usage of {Count} versions to the index")]
    public static partial void UsageFlushed(ILogger logger, int count);

    [LoggerMessage(EventId = 7501, Level = LogLevel.Information, Message = "Store quota: evicted {Count} versions, {Before} bytes to {After} (quota {Quota})")]
    public static partial void QuotaEnforced(ILogger logger, int count, long before, long after, long quota);

    [LoggerMessage(EventId = 7502, Level = LogLevel.Warning, Message = "Store quota: the store still holds {Size} bytes, above the quota of {Quota}: what is left is kept (--private patterns)")]
    public static partial void QuotaUnreachable(ILogger logger, long size, long quota);

    [LoggerMessage(EventId = 7503, Level = LogLevel.Warning, Message = "Retention failed; trying again later")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7504, Level = LogLevel.Warning, Message = "{Module}@{Version}: refused a re-fetched {Kind} whose hash {Hash} differs from the {Recorded} recorded when it was first stored")]
    public static partial void HashDiffersFromRecord(ILogger logger, string module, string version, string kind, string hash, string recorded);
}

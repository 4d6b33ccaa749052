namespace Warren.Server.Observability;

/// <summary>Log messages of the vulnerability database mirror (event ids 7800–7849).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7800, Level = LogLevel.Information, Message = "Vulnerability database: loaded the stored copy ({Entries} entries, modified {Modified:o})")]
    public static partial void VulnDbStoredLoaded(ILogger logger, int entries, DateTimeOffset modified);

    [LoggerMessage(EventId = 7801, Level = LogLevel.Warning, Message = "Vulnerability database: the stored copy {Path} is unusable, ignored: {Reason}")]
    public static partial void VulnDbStoredUnusable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 7802, Level = LogLevel.Information, Message = "Vulnerability database: new copy from {Source} ({Entries} entries, {Changed} new or changed, {Fetched} fetched, modified {Modified:o})")]
    public static partial void VulnDbRefreshed(ILogger logger, string source, int entries, int changed, int fetched, DateTimeOffset modified);

    [LoggerMessage(EventId = 7803, Level = LogLevel.Debug, Message = "Vulnerability database: {Source} unchanged ({How})")]
    public static partial void VulnDbUnchanged(ILogger logger, string source, string how);

    [LoggerMessage(EventId = 7804, Level = LogLevel.Warning, Message = "Vulnerability database: refresh from {Source} failed; serving the last good copy (modified {Modified}): {Reason}")]
    public static partial void VulnDbRefreshFailed(ILogger logger, string source, string modified, string reason);

    [LoggerMessage(EventId = 7805, Level = LogLevel.Warning, Message = "Vulnerability database: observer {Observer} failed")]
    public static partial void VulnDbObserverFailed(ILogger logger, string observer, Exception exception);

    [LoggerMessage(EventId = 7806, Level = LogLevel.Warning, Message = "Vulnerability database: could not store the new copy under {Path}; it is served from memory: {Reason}")]
    public static partial void VulnDbStoreFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 7807, Level = LogLevel.Information, Message = "Vulnerability database: offline, {Source} is not contacted; serving the stored copy only")]
    public static partial void VulnDbOffline(ILogger logger, string source);
}

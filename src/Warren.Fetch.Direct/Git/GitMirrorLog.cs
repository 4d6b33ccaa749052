using Microsoft.Extensions.Logging;

namespace Warren.Fetch.Direct.Git;

/// <summary>Log messages of the mirror manager. Every string argument has been through the secret redactor.</summary>
internal static partial class GitMirrorLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Created git mirror of {Url} in {Directory} in {ElapsedMs:0} ms")]
    public static partial void Cloned(ILogger logger, string url, string directory, double elapsedMs);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Debug, Message = "Fetched {Url} into its mirror in {ElapsedMs:0} ms")]
    public static partial void Fetched(ILogger logger, string url, double elapsedMs);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Debug, Message = "Mirror of {Url} is up to date")]
    public static partial void UpToDate(ILogger logger, string url);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "Git mirror of {Url}: {Status} {Reason}")]
    public static partial void Failed(ILogger logger, string url, DirectStatus status, string reason);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Information, Message = "Removed {Count} leftover git mirror staging directories")]
    public static partial void CleanedLeftovers(ILogger logger, int count);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Debug, Message = "Answering from a shallow fetch while the mirror of {Url} is being created")]
    public static partial void ShallowFirst(ILogger logger, string url);

    [LoggerMessage(EventId = 6450, Level = LogLevel.Information, Message = "Pruned git mirror of {Url} ({Bytes} bytes, last used {LastUse:O}): {Reason}")]
    public static partial void Pruned(ILogger logger, string url, long bytes, DateTimeOffset lastUse, string reason);

    [LoggerMessage(EventId = 6451, Level = LogLevel.Warning, Message = "Refused repository {Url}: {Reason}")]
    public static partial void TooLarge(ILogger logger, string url, string reason);

    [LoggerMessage(EventId = 6452, Level = LogLevel.Warning, Message = "Git mirrors use {Bytes} bytes, over the quota of {Quota}; every remaining mirror is in use")]
    public static partial void OverQuota(ILogger logger, long bytes, long quota);
}

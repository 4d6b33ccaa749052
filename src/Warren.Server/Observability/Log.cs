using Microsoft.Extensions.Logging;
using Warren.Server.Upstream;

namespace Warren.Server.Observability;

/// <summary>Source-generated structured log messages with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Warren serving store {Root} with upstream {Upstream}, sumdb {SumDb}")]
    public static partial void Starting(ILogger logger, string root, string upstream, string sumDb);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Removed {Count} leftover staging files from an earlier run")]
    public static partial void CleanedStaging(ILogger logger, int count);

    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "Upstream {Request} from {Source}: {Outcome} {Status} in {ElapsedMs:0.0} ms {Reason}")]
    public static partial void UpstreamFetch(ILogger logger, string request, string source, FetchStatus outcome, int status, double elapsedMs, string reason);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Upstream failed for {Request}; serving the stale copy: {Reason}")]
    public static partial void ServingStale(ILogger logger, string request, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Upstream failed for {Request}: {Status} {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, string request, int status, string reason);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Stored {Request} ({Bytes} bytes, {Hash}) from {Source}")]
    public static partial void Stored(ILogger logger, string request, long bytes, string hash, string source);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Refused {Request} from {Source}: {Reason}")]
    public static partial void Rejected(ILogger logger, string request, string source, string reason);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Request {Path} failed")]
    public static partial void Unhandled(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "Refused a request that looped back to this instance: {Path}")]
    public static partial void LoopDetected(ILogger logger, string path);
}

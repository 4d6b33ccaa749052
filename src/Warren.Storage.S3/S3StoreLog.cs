using Microsoft.Extensions.Logging;

namespace Warren.Storage.S3;

/// <summary>The S3 store's log events (ids 4000–4099).</summary>
internal static partial class S3StoreLog
{
    [LoggerMessage(EventId = 7310, Level = LogLevel.Information, Message = "S3 store {Location}: conditional writes (If-None-Match) are {Result}; put-if-absent uses {Mechanism}")]
    public static partial void ConditionalWrites(ILogger logger, string location, string result, string mechanism);

    [LoggerMessage(EventId = 7311, Level = LogLevel.Debug, Message = "Multipart upload of {Key} started ({Length} bytes, parts of {PartSize})")]
    public static partial void MultipartStarted(ILogger logger, string key, long? length, long partSize);

    [LoggerMessage(EventId = 7312, Level = LogLevel.Debug, Message = "Multipart upload of {Key} completed: {Parts} parts, {Length} bytes")]
    public static partial void MultipartCompleted(ILogger logger, string key, int parts, long length);

    [LoggerMessage(EventId = 7313, Level = LogLevel.Warning, Message = "Multipart upload of {Key} aborted: {Reason}")]
    public static partial void MultipartAborted(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 7314, Level = LogLevel.Warning, Message = "Could not abort the multipart upload of {Key} (the bucket's lifecycle rule for incomplete uploads removes it): {Reason}")]
    public static partial void MultipartAbortFailed(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 7315, Level = LogLevel.Debug, Message = "Multipart upload of {Key} not completed: the object already exists")]
    public static partial void MultipartLost(ILogger logger, string key);
}

namespace Warren.Server.Observability;

/// <summary>Log messages of the download modes (event ids 7450-7499).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7450, Level = LogLevel.Information, Message = "Download modes: {Rules}; redirects go to {Target}")]
    public static partial void DownloadModes(ILogger logger, string rules, string target);

    [LoggerMessage(EventId = 7451, Level = LogLevel.Debug, Message = "Redirected {Request} to {Location} (download mode {Mode})")]
    public static partial void DownloadRedirected(ILogger logger, string request, string location, string mode);

    [LoggerMessage(EventId = 7452, Level = LogLevel.Debug, Message = "Not fetched: {Request} (download mode {Mode})")]
    public static partial void DownloadNotFetched(ILogger logger, string request, string mode);

    [LoggerMessage(EventId = 7453, Level = LogLevel.Information, Message = "Background fetch of {Module}@{Version} stored it")]
    public static partial void BackgroundFetchStored(ILogger logger, string module, string version);

    [LoggerMessage(EventId = 7454, Level = LogLevel.Warning, Message = "Background fetch of {Module}@{Version} failed: {Reason}")]
    public static partial void BackgroundFetchFailed(ILogger logger, string module, string version, string reason);

    [LoggerMessage(EventId = 7455, Level = LogLevel.Warning, Message = "Background fetch of {Module}@{Version} dropped: {Capacity} versions are already waiting")]
    public static partial void BackgroundFetchDropped(ILogger logger, string module, string version, int capacity);
}

using Microsoft.Extensions.Logging;

namespace Warren.Server.Auth;

/// <summary>Log events of access control and rate limiting (event ids 6000-6099).</summary>
internal static partial class AuthLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Access control on: auth file {Path} with {Count} principals")]
    public static partial void AuthFileLoaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Auth file {Path} reloaded: {Count} principals")]
    public static partial void AuthFileReloaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "Auth file {Path} changed but cannot be used; keeping the last good version: {Reason}")]
    public static partial void AuthFileReloadFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Warren listens on {Listen}, not a loopback address, without an auth file: anyone who can reach it reads every module it can fetch, private ones included (give --auth-file)")]
    public static partial void OpenWithoutAuth(ILogger logger, string listen);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Denied {Principal} {Module} {Artifact}: {Status} {Reason} (identical refusals since the last such line: {Repeats})")]
    public static partial void Denied(ILogger logger, string principal, string module, string artifact, int status, string reason, long repeats);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "Served private {Module} {Artifact} to {Principal}: {Status} (identical answers since the last such line: {Repeats})")]
    public static partial void PrivateServed(ILogger logger, string principal, string module, string artifact, int status, long repeats);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Debug, Message = "Rate limited {Partition}: 429, retry after {RetryAfter} s")]
    public static partial void RateLimited(ILogger logger, string partition, long retryAfter);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "Admin listener on {Listen} serves /metrics without a token")]
    public static partial void AdminListener(ILogger logger, string listen);
}

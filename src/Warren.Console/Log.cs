namespace Warren.WebConsole;

/// <summary>The console's log messages (event ids 8200–8249).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 8200, Level = LogLevel.Information, Message = "Console sign-in as {Principal} from {Client}; the session ends at {Expires:u}")]
    public static partial void SignedIn(ILogger logger, string principal, string client, DateTimeOffset expires);

    [LoggerMessage(EventId = 8201, Level = LogLevel.Information, Message = "Console sign-in refused from {Client}: {Reason}")]
    public static partial void SignInRefused(ILogger logger, string client, string reason);

    [LoggerMessage(EventId = 8202, Level = LogLevel.Information, Message = "Console sign-out of {Principal}")]
    public static partial void SignedOut(ILogger logger, string principal);

    [LoggerMessage(EventId = 8203, Level = LogLevel.Information, Message = "Console session of {Principal} ended: its token is revoked or expired")]
    public static partial void SessionRevoked(ILogger logger, string principal);

    [LoggerMessage(EventId = 8204, Level = LogLevel.Warning, Message = "Console sessions full ({Count}); the one closest to its end was dropped")]
    public static partial void SessionsFull(ILogger logger, int count);

    [LoggerMessage(EventId = 8205, Level = LogLevel.Information, Message = "Console request refused: {Status} {Reason}")]
    public static partial void Refused(ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 8206, Level = LogLevel.Warning, Message = "Console session not read: the module index does not answer: {Reason}")]
    public static partial void SessionUnreadable(ILogger logger, string reason);

    [LoggerMessage(EventId = 8207, Level = LogLevel.Warning, Message = "Console anti-forgery key not read from the module index: {Reason}")]
    public static partial void KeyUnreadable(ILogger logger, string reason);
}

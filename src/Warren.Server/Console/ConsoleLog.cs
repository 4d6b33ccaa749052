namespace Warren.Server.ConsoleData;

/// <summary>Log messages of the console's data services (event ids 8250–8299).</summary>
internal static partial class ConsoleLog
{
    [LoggerMessage(EventId = 8250, Level = LogLevel.Information, Message = "Token {Name} created by {Principal} through the console API: grants {Grants}, admin {Admin}, expires {Expires}")]
    public static partial void TokenCreated(ILogger logger, string name, string principal, string grants, bool admin, string expires);

    [LoggerMessage(EventId = 8251, Level = LogLevel.Information, Message = "Token {Name} revoked by {Principal} through the console API")]
    public static partial void TokenRevoked(ILogger logger, string name, string principal);

    [LoggerMessage(EventId = 8252, Level = LogLevel.Warning, Message = "Console: the auth file {File} cannot be changed: {Reason}")]
    public static partial void AuthFileUnwritable(ILogger logger, string file, string reason);
}

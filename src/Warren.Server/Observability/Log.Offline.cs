namespace Warren.Server.Observability;

/// <summary>Log messages of air-gapped operation (event ids 7600–7649).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7600, Level = LogLevel.Information, Message = "Offline: serving only what store {Root} holds; no upstream, origin or checksum database is contacted")]
    public static partial void Offline(ILogger logger, string root);
}

namespace Warren.Server.Observability;

/// <summary>Log messages of what the server keeps for the web console (event ids 8200–8249).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 8240, Level = LogLevel.Warning, Message = "Could not record the provenance of {Module}@{Version} in the index: {Reason}")]
    public static partial void ProvenanceNotRecorded(ILogger logger, string module, string version, string reason);
}

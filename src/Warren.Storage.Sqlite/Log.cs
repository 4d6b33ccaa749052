using Microsoft.Extensions.Logging;

namespace Warren.Storage.Sqlite;

/// <summary>The SQLite index's log messages (event ids 4100-4199).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Error, Message = "SQLite index {Path} is corrupt ({Reason}); moved it to {Aside} and created a new, empty one")]
    public static partial void IndexRecreated(ILogger logger, string path, string aside, string reason);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "SQLite index {Path}: schema migrated from version {From} to {To}")]
    public static partial void MigrationApplied(ILogger logger, string path, long from, long to);
}

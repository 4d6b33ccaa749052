using System.Data;
using Microsoft.Data.Sqlite;

namespace Warren.Storage.Sqlite;

/// <summary>Small helpers for commands and transactions.</summary>
internal static class Sql
{
    /// <summary>A command on connection (in transaction, when one is open) with its parameters ($name, value; null is NULL).</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string text, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = text;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>Starts a write transaction at once (BEGIN IMMEDIATE): it waits for other writers up to the connection's
    /// timeout, so the reads it makes cannot be invalidated by another writer before it commits.</summary>
    public static SqliteTransaction BeginImmediate(SqliteConnection connection) =>
        connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);

    public static long ToStored(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static DateTimeOffset FromStored(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
}

using Microsoft.Data.Sqlite;

namespace Warren.Storage.Sqlite;

/// <summary>Download counts and the alert outbox (schema version 5).</summary>
public sealed partial class SqliteModuleIndex
{
    public Task RecordDownloadsAsync(IReadOnlyCollection<DownloadCount> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return batch.Count == 0 ? Task.CompletedTask : RunWriteAsync(async connection =>
        {
            await using var transaction = Sql.BeginImmediate(connection);
            foreach (var d in batch)
            {
                await using var command = Sql.Command(connection, transaction, """
                    INSERT INTO downloads (module, version, client, node, day, downloads, last_download) VALUES ($m, $v, $c, $n, $d, $k, $t)
                    ON CONFLICT (module, version, client, node, day) DO UPDATE SET downloads = downloads + excluded.downloads,
                        last_download = max(last_download, excluded.last_download)
                    """,
                    ("$m", d.ModulePath), ("$v", d.Version), ("$c", d.Client), ("$n", d.Node), ("$d", d.Day.DayNumber), ("$k", d.Downloads),
                    ("$t", Sql.ToStored(d.LastDownload)));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return batch.Count;
        });
    }

    public Task<IReadOnlyList<DownloadCount>> ReadDownloadsAsync(DateOnly since, string? modulePath, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<DownloadCount>>(async connection =>
        {
            await using var command = Sql.Command(connection, null, modulePath is null
                    ? "SELECT module, version, client, node, day, downloads, last_download FROM downloads WHERE day >= $d"
                    : "SELECT module, version, client, node, day, downloads, last_download FROM downloads WHERE day >= $d AND module = $m",
                ("$d", since.DayNumber), ("$m", modulePath));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<DownloadCount>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(new DownloadCount(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    DateOnly.FromDayNumber(reader.GetInt32(4)), reader.GetInt64(5), Sql.FromStored(reader.GetInt64(6))));
            }

            return rows;
        });

    public Task<int> PruneDownloadsAsync(DateOnly before, CancellationToken cancellationToken) =>
        RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "DELETE FROM downloads WHERE day < $d", ("$d", before.DayNumber));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    public Task<int> EnqueueAlertsAsync(IReadOnlyCollection<AlertEntry> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        return alerts.Count == 0 ? Task.FromResult(0) : RunWriteAsync(async connection =>
        {
            await using var transaction = Sql.BeginImmediate(connection);
            var added = 0;
            foreach (var a in alerts)
            {
                await using var command = Sql.Command(connection, transaction, """
                    INSERT INTO alerts (advisory, module, version, body, created_at, attempts, next_attempt) VALUES ($a, $m, $v, $b, $t, 0, $n)
                    ON CONFLICT (advisory, module, version) DO NOTHING
                    """,
                    ("$a", a.AdvisoryId), ("$m", a.ModulePath), ("$v", a.Version), ("$b", a.Advisory), ("$t", Sql.ToStored(a.CreatedAt)),
                    ("$n", Sql.ToStored(a.NextAttempt)));
                added += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return added;
        });
    }

    public Task<IReadOnlyList<AlertEntry>> ClaimAlertsAsync(string claimer, DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(claimer);
        return RunWriteAsync<IReadOnlyList<AlertEntry>>(async connection =>
        {
            // One writer at a time (BEGIN IMMEDIATE): what is read here cannot be claimed by another before the update.
            await using var transaction = Sql.BeginImmediate(connection);
            List<AlertEntry> claimed;
            await using (var select = Sql.Command(connection, transaction, $"""
                SELECT {AlertColumns} FROM alerts
                WHERE sent_at IS NULL AND next_attempt <= $now AND (claimed_until IS NULL OR claimed_until <= $now)
                ORDER BY created_at, advisory, module, version LIMIT $max
                """, ("$now", Sql.ToStored(now)), ("$max", Math.Max(0, max))))
            {
                claimed = await ReadAlertsAsync(select, cancellationToken).ConfigureAwait(false);
            }

            foreach (var a in claimed)
            {
                await using var update = Sql.Command(connection, transaction,
                    "UPDATE alerts SET claimed_by = $c, claimed_until = $u WHERE advisory = $a AND module = $m AND version = $v",
                    ("$c", claimer), ("$u", Sql.ToStored(now + lease)), ("$a", a.AdvisoryId), ("$m", a.ModulePath), ("$v", a.Version));
                await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return claimed;
        });
    }

    public Task CompleteAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, DateTimeOffset sentAt, CancellationToken cancellationToken) =>
        UpdateAlertsAsync(alerts, "sent_at = $t, claimed_by = NULL, claimed_until = NULL, last_error = $e", ("$t", Sql.ToStored(sentAt)), ("$e", null), cancellationToken);

    public Task DeferAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken) =>
        UpdateAlertsAsync(alerts, "attempts = attempts + 1, next_attempt = $t, last_error = $e, claimed_by = NULL, claimed_until = NULL",
            ("$t", Sql.ToStored(nextAttempt)), ("$e", error), cancellationToken);

    public Task<DateTimeOffset?> NextAlertAttemptAsync(CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT min(max(next_attempt, coalesce(claimed_until, 0))) FROM alerts WHERE sent_at IS NULL");
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long next ? Sql.FromStored(next) : (DateTimeOffset?)null;
        });

    public Task<IReadOnlyList<AlertEntry>> ReadAlertsAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<AlertEntry>>(async connection =>
        {
            await using var command = Sql.Command(connection, null, $"SELECT {AlertColumns} FROM alerts ORDER BY created_at, advisory, module, version");
            return await ReadAlertsAsync(command, cancellationToken).ConfigureAwait(false);
        });

    private const string AlertColumns = "advisory, module, version, body, created_at, attempts, next_attempt, sent_at, last_error";

    private Task UpdateAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, string set,
        (string, object?) time, (string, object?) error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        return alerts.Count == 0 ? Task.CompletedTask : RunWriteAsync(async connection =>
        {
            await using var transaction = Sql.BeginImmediate(connection);
            foreach (var (advisory, module, version) in alerts)
            {
                await using var command = Sql.Command(connection, transaction,
                    $"UPDATE alerts SET {set} WHERE advisory = $a AND module = $m AND version = $v AND sent_at IS NULL",
                    time, error, ("$a", advisory), ("$m", module), ("$v", version));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return alerts.Count;
        });
    }

    private static async Task<List<AlertEntry>> ReadAlertsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var alerts = new List<AlertEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            alerts.Add(new AlertEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), Sql.FromStored(reader.GetInt64(4)),
                reader.GetInt32(5), Sql.FromStored(reader.GetInt64(6)), reader.IsDBNull(7) ? null : Sql.FromStored(reader.GetInt64(7)),
                reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return alerts;
    }
}

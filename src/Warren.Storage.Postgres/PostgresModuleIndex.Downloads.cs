using Npgsql;
using NpgsqlTypes;

namespace Warren.Storage.Postgres;

/// <summary>Download counts and the alert outbox (migration 6).</summary>
public sealed partial class PostgresModuleIndex
{
    private const string AlertColumns = "advisory, module, version, body, created_at, attempts, next_attempt, sent_at, last_error";

    public async Task RecordDownloadsAsync(IReadOnlyCollection<DownloadCount> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }

        // One statement for the batch (rows merged first: one statement may not touch a row twice).
        var merged = batch.GroupBy(d => (d.ModulePath, d.Version, d.Client, d.Node, d.Day))
            .Select(g => g.First() with { Downloads = g.Sum(d => d.Downloads), LastDownload = g.Max(d => d.LastDownload) }).ToList();
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.downloads (module, version, client, node, day, downloads, last_download)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::bigint[], $7::timestamptz[])
            ON CONFLICT (module, version, client, node, day) DO UPDATE SET downloads = {_s}.downloads.downloads + EXCLUDED.downloads,
                last_download = greatest({_s}.downloads.last_download, EXCLUDED.last_download)
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = merged.Select(d => d.ModulePath).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = merged.Select(d => d.Version).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = merged.Select(d => d.Client).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = merged.Select(d => d.Node).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateOnly[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Date, TypedValue = merged.Select(d => d.Day).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = merged.Select(d => d.Downloads).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, TypedValue = merged.Select(d => d.LastDownload.ToUniversalTime()).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DownloadCount>> ReadDownloadsAsync(DateOnly since, string? modulePath, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT module, version, client, node, day, downloads, last_download FROM {_s}.downloads WHERE day >= $1 AND ($2::text IS NULL OR module = $2)");
        command.Parameters.Add(new NpgsqlParameter<DateOnly> { NpgsqlDbType = NpgsqlDbType.Date, TypedValue = since });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)modulePath ?? DBNull.Value });
        var rows = new List<DownloadCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new DownloadCount(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<DateOnly>(4), reader.GetInt64(5), reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return rows;
    }

    public async Task<int> PruneDownloadsAsync(DateOnly before, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"DELETE FROM {_s}.downloads WHERE day < $1");
        command.Parameters.Add(new NpgsqlParameter<DateOnly> { NpgsqlDbType = NpgsqlDbType.Date, TypedValue = before });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> EnqueueAlertsAsync(IReadOnlyCollection<AlertEntry> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Count == 0)
        {
            return 0;
        }

        var distinct = alerts.DistinctBy(a => (a.AdvisoryId, a.ModulePath, a.Version)).ToList();
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.alerts (advisory, module, version, body, created_at, attempts, next_attempt)
                SELECT a, m, v, b, t, 0, n FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[]) AS u(a, m, v, b, t, n)
            ON CONFLICT (advisory, module, version) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = distinct.Select(a => a.AdvisoryId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = distinct.Select(a => a.ModulePath).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = distinct.Select(a => a.Version).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = distinct.Select(a => a.Advisory).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, TypedValue = distinct.Select(a => a.CreatedAt.ToUniversalTime()).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, TypedValue = distinct.Select(a => a.NextAttempt.ToUniversalTime()).ToArray() });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AlertEntry>> ClaimAlertsAsync(string claimer, DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(claimer);

        // Rows locked by another claimer's statement are skipped, so two nodes never claim the same alert.
        await using var command = _dataSource.CreateCommand($"""
            UPDATE {_s}.alerts SET claimed_by = $1, claimed_until = $3
            WHERE (advisory, module, version) IN (
                SELECT advisory, module, version FROM {_s}.alerts
                WHERE sent_at IS NULL AND next_attempt <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
                ORDER BY created_at, advisory, module, version LIMIT $4 FOR UPDATE SKIP LOCKED)
            RETURNING {AlertColumns}
            """);
        command.Parameters.Add(Text(claimer));
        command.Parameters.Add(Time(now));
        command.Parameters.Add(Time(now + lease));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Max(0, max) });
        var claimed = await ReadAlertsAsync(command, cancellationToken).ConfigureAwait(false);
        return claimed.OrderBy(a => a.CreatedAt).ThenBy(a => a.AdvisoryId, StringComparer.Ordinal).ThenBy(a => a.ModulePath, StringComparer.Ordinal)
            .ThenBy(a => a.Version, StringComparer.Ordinal).ToList();
    }

    public Task CompleteAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, DateTimeOffset sentAt, CancellationToken cancellationToken) =>
        UpdateAlertsAsync(alerts, "sent_at = $4, claimed_by = NULL, claimed_until = NULL, last_error = $5", sentAt, null, cancellationToken);

    public Task DeferAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken) =>
        UpdateAlertsAsync(alerts, "attempts = attempts + 1, next_attempt = $4, last_error = $5, claimed_by = NULL, claimed_until = NULL", nextAttempt, error, cancellationToken);

    public async Task<DateTimeOffset?> NextAlertAttemptAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT min(greatest(next_attempt, coalesce(claimed_until, next_attempt))) FROM {_s}.alerts WHERE sent_at IS NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0) ? reader.GetFieldValue<DateTimeOffset>(0) : null;
    }

    public async Task<IReadOnlyList<AlertEntry>> ReadAlertsAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {AlertColumns} FROM {_s}.alerts ORDER BY created_at, advisory, module, version");
        return await ReadAlertsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    private async Task UpdateAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, string set,
        DateTimeOffset time, string? error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Count == 0)
        {
            return;
        }

        await using var command = _dataSource.CreateCommand($"""
            UPDATE {_s}.alerts SET {set}
            WHERE (advisory, module, version) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[])) AND sent_at IS NULL
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = alerts.Select(a => a.AdvisoryId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = alerts.Select(a => a.ModulePath).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = alerts.Select(a => a.Version).ToArray() });
        command.Parameters.Add(Time(time));
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)error ?? DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<AlertEntry>> ReadAlertsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var alerts = new List<AlertEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            alerts.Add(new AlertEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetInt32(5), reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
                reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return alerts;
    }
}

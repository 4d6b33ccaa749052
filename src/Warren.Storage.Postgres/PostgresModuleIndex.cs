using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Warren.Core.Modules;
using Warren.Protocol.SumDb;

namespace Warren.Storage.Postgres;

/// <summary>An <see cref="IModuleIndex"/> in PostgreSQL, shared by every node that uses the same database and schema.
/// Call <see cref="MigrateAsync"/> once at start-up before anything else. Times are kept to the microsecond,
/// PostgreSQL's precision.</summary>
public sealed partial class PostgresModuleIndex : IModuleIndex
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly string _s;

    public PostgresModuleIndex(NpgsqlDataSource dataSource, PostgresIndexOptions options, ILogger<PostgresModuleIndex>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        _dataSource = dataSource;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        Schema = options.Schema;
        _s = PostgresMigrations.Quote(options.Schema);
        Location = options.Location;
    }

    /// <summary>The schema of the index's tables.</summary>
    public string Schema { get; }

    /// <summary>host:port/database, without credentials.</summary>
    public string Location { get; }

    /// <summary>Brings the schema to the latest version (see <see cref="PostgresMigrations"/>); safe when several nodes
    /// start at once. Returns how many versions this call applied.</summary>
    public Task<int> MigrateAsync(CancellationToken cancellationToken) =>
        PostgresMigrations.MigrateAsync(_dataSource, Schema, _logger, cancellationToken);

    public async Task RecordArtifactAsync(ArtifactRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.artifacts (module, version, kind, hash, size, source, stored_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (module, version, kind) DO UPDATE SET hash = EXCLUDED.hash, size = EXCLUDED.size, source = EXCLUDED.source
            """);
        command.Parameters.Add(Text(record.ModulePath));
        command.Parameters.Add(Text(record.Version));
        command.Parameters.Add(Text(StoreLayout.KindName(record.Kind)));
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)record.Hash ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = record.Size });
        command.Parameters.Add(Text(record.Source));
        command.Parameters.Add(Time(record.StoredAt));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await AddToFeedAsync(record, cancellationToken).ConfigureAwait(false);
        await using var present = _dataSource.CreateCommand($"UPDATE {_s}.usage SET evicted_at = NULL WHERE module = $1 AND version = $2 AND evicted_at IS NOT NULL");
        present.Parameters.Add(Text(record.ModulePath));
        present.Parameters.Add(Text(record.Version));
        await present.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RecordUsageAsync(IReadOnlyCollection<VersionUsage> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }

        // One statement for the batch: the arrays are unnested into rows.
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.usage (module, version, last_access, downloads)
                SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[])
            ON CONFLICT (module, version) DO UPDATE SET last_access = greatest({_s}.usage.last_access, EXCLUDED.last_access),
                downloads = {_s}.usage.downloads + EXCLUDED.downloads
            """);
        var merged = batch.GroupBy(u => (u.ModulePath, u.Version))
            .Select(g => new VersionUsage(g.Key.ModulePath, g.Key.Version, g.Max(u => u.LastAccess), g.Sum(u => u.Downloads))).ToList();
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = merged.Select(u => u.ModulePath).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = merged.Select(u => u.Version).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, TypedValue = merged.Select(u => u.LastAccess.ToUniversalTime()).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = merged.Select(u => u.Downloads).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<VersionUsage>> ReadUsageAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT module, version, last_access, downloads, evicted_at FROM {_s}.usage");
        var usage = new List<VersionUsage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            usage.Add(new VersionUsage(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return usage;
    }

    public async Task RecordEvictionsAsync(IReadOnlyCollection<(string ModulePath, string Version)> versions, DateTimeOffset evictedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(versions);
        if (versions.Count == 0)
        {
            return;
        }

        var distinct = versions.Distinct().ToList();
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.usage (module, version, last_access, downloads, evicted_at)
                SELECT m, v, 'epoch', 0, $3 FROM unnest($1::text[], $2::text[]) AS u(m, v)
            ON CONFLICT (module, version) DO UPDATE SET evicted_at = EXCLUDED.evicted_at
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = distinct.Select(v => v.ModulePath).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = distinct.Select(v => v.Version).ToArray() });
        command.Parameters.Add(Time(evictedAt));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gives a version seen for the first time its feed timestamp: its StoredAt, or just after the newest one,
    /// under an advisory lock held until commit, so no two nodes give the same one and none becomes visible out of
    /// order.</summary>
    private async Task AddToFeedAsync(ArtifactRecord record, CancellationToken cancellationToken)
    {
        await using (var known = _dataSource.CreateCommand($"SELECT 1 FROM {_s}.feed WHERE module = $1 AND version = $2"))
        {
            known.Parameters.Add(Text(record.ModulePath));
            known.Parameters.Add(Text(record.Version));
            if (await known.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
            {
                return;
            }
        }

        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await using (var exclusive = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({PostgresMigrations.FeedLockClass}, {PostgresMigrations.FeedLockObject})", connection, transaction))
                {
                    await exclusive.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await using var insert = new NpgsqlCommand($"""
                    INSERT INTO {_s}.feed (module, version, ts)
                        SELECT $1, $2, GREATEST($3, COALESCE((SELECT max(ts) FROM {_s}.feed), -1) + 1)
                        WHERE NOT EXISTS (SELECT 1 FROM {_s}.feed WHERE module = $1 AND version = $2)
                    """, connection, transaction);
                insert.Parameters.Add(Text(record.ModulePath));
                insert.Parameters.Add(Text(record.Version));
                insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Microseconds(record.StoredAt) });
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async Task<IReadOnlyList<FeedEntry>> ReadFeedAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT module, version, ts FROM {_s}.feed WHERE ts >= $1 ORDER BY ts LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Microseconds(since) });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Max(0, limit) });
        var entries = new List<FeedEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new FeedEntry(reader.GetString(0), reader.GetString(1), DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(2) * 10)));
        }

        return entries;
    }

    public async Task RecordVerificationAsync(VersionVerification verification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(verification);
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.verifications (module, version, database, tree_size, verified_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (module, version) DO UPDATE SET database = excluded.database, tree_size = excluded.tree_size, verified_at = excluded.verified_at
            """);
        command.Parameters.Add(Text(verification.ModulePath));
        command.Parameters.Add(Text(verification.Version));
        command.Parameters.Add(Text(verification.Database));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = verification.TreeSize });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = verification.VerifiedAt.ToUniversalTime() });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<VersionVerification>> ReadVerificationsAsync(string modulePath, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT version, database, tree_size, verified_at FROM {_s}.verifications WHERE module = $1");
        command.Parameters.Add(Text(modulePath));
        var list = new List<VersionVerification>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new VersionVerification(modulePath, reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return list;
    }

    public async Task<IndexStats> GetStatsAsync(CancellationToken cancellationToken)
    {
        // Kept by triggers as the data changes (migration 8): a few thousand module rows, never the feed.
        await using var command = _dataSource.CreateCommand($"""
            SELECT (SELECT count(*) FROM {_s}.modules), (SELECT coalesce(sum(versions), 0)::bigint FROM {_s}.modules),
                   (SELECT value FROM {_s}.totals WHERE name = 'bytes'), (SELECT value FROM {_s}.totals WHERE name = 'evicted')
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var evicted = reader.GetInt64(3);
        return new IndexStats(reader.GetInt64(0), Math.Max(0, reader.GetInt64(1) - evicted), Math.Max(0, reader.GetInt64(2)), evicted);
    }

    public async Task<IReadOnlyList<ModuleMatch>> SearchModulesAsync(string query, string? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, ModuleSearch.MaxLimit);
        await using var command = _dataSource.CreateCommand($"""
            SELECT module, versions, last_ts FROM {_s}.modules
            WHERE module COLLATE "C" > $1 AND ($2 = '' OR strpos(lower(module), lower($2)) > 0)
            ORDER BY module COLLATE "C" LIMIT $3
            """);
        command.Parameters.Add(Text(after ?? ""));
        command.Parameters.Add(Text(query));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var matches = new List<ModuleMatch>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            matches.Add(new ModuleMatch(reader.GetString(0), reader.GetInt64(1), DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(2) * 10)));
        }

        return matches;
    }

    public async Task RecordNodeAsync(NodeHeartbeat heartbeat, DateTimeOffset forgetBefore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        await using var batch = _dataSource.CreateBatch();
        var upsert = new NpgsqlBatchCommand($"""
            INSERT INTO {_s}.nodes (node, instance, version, started_at, last_seen) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (node, instance) DO UPDATE SET version = EXCLUDED.version, last_seen = greatest({_s}.nodes.last_seen, EXCLUDED.last_seen)
            """);
        upsert.Parameters.Add(Text(heartbeat.Node));
        upsert.Parameters.Add(Text(heartbeat.Instance));
        upsert.Parameters.Add(Text(heartbeat.Version));
        upsert.Parameters.Add(Time(heartbeat.StartedAt));
        upsert.Parameters.Add(Time(heartbeat.LastSeen));
        var forget = new NpgsqlBatchCommand($"DELETE FROM {_s}.nodes WHERE last_seen < $1");
        forget.Parameters.Add(Time(forgetBefore));
        batch.BatchCommands.Add(upsert);
        batch.BatchCommands.Add(forget);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<NodeHeartbeat>> ReadNodesAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT node, instance, version, started_at, last_seen FROM {_s}.nodes ORDER BY node, started_at");
        var nodes = new List<NodeHeartbeat>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            nodes.Add(new NodeHeartbeat(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return nodes;
    }

    public async Task<int> OpenSessionAsync(ConsoleSessionRecord session, DateTimeOffset now, int maxSessions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSessions, 1);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // One opening at a time, so that nodes signing people in together keep the bound.
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE {_s}.sessions IN SHARE ROW EXCLUSIVE MODE", connection, transaction))
        {
            await lockTable.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var ended = new NpgsqlCommand($"DELETE FROM {_s}.sessions WHERE expires <= $1", connection, transaction))
        {
            ended.Parameters.Add(Time(now));
            await ended.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int forgotten;
        await using (var room = new NpgsqlCommand($"""
            DELETE FROM {_s}.sessions WHERE key IN (
                SELECT key FROM {_s}.sessions WHERE key <> $1 ORDER BY expires
                LIMIT greatest(0, (SELECT count(*) FROM {_s}.sessions WHERE key <> $1) - $2 + 1))
            """, connection, transaction))
        {
            room.Parameters.Add(Bytes(session.Key));
            room.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxSessions });
            forgotten = await room.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO {_s}.sessions (key, principal, sealed, expires) VALUES ($1, $2, $3, $4)
            ON CONFLICT (key) DO UPDATE SET principal = EXCLUDED.principal, sealed = EXCLUDED.sealed, expires = EXCLUDED.expires
            """, connection, transaction))
        {
            insert.Parameters.Add(Bytes(session.Key));
            insert.Parameters.Add(Text(session.Principal));
            insert.Parameters.Add(Bytes(session.SealedToken));
            insert.Parameters.Add(Time(session.Expires));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return forgotten;
    }

    public async Task<ConsoleSessionRecord?> GetSessionAsync(byte[] key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var command = _dataSource.CreateCommand($"SELECT principal, sealed, expires FROM {_s}.sessions WHERE key = $1");
        command.Parameters.Add(Bytes(key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new ConsoleSessionRecord(key, reader.GetString(0), reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<DateTimeOffset>(2))
            : null;
    }

    public async Task<string?> EndSessionAsync(byte[] key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var command = _dataSource.CreateCommand($"DELETE FROM {_s}.sessions WHERE key = $1 RETURNING principal");
        command.Parameters.Add(Bytes(key));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(candidate);
        // The insert either stores the candidate or, when a row exists (or another node inserts it first, on conflict
        // waiting for that node's commit), does nothing; the select then reads whichever value won.
        await using var insert = _dataSource.CreateCommand($"INSERT INTO {_s}.secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING");
        insert.Parameters.Add(Text(name));
        insert.Parameters.Add(Bytes(candidate));
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var read = _dataSource.CreateCommand($"SELECT value FROM {_s}.secrets WHERE name = $1");
        read.Parameters.Add(Text(name));
        return (byte[])(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<string?> GetCursorAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT cursor FROM {_s}.cursors WHERE name = $1");
        command.Parameters.Add(Text(name));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task SetCursorAsync(string name, string cursor, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"INSERT INTO {_s}.cursors (name, cursor) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET cursor = EXCLUDED.cursor");
        command.Parameters.Add(Text(name));
        command.Parameters.Add(Text(cursor));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static long Microseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public async Task<ArtifactRecord?> GetArtifactAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT hash, size, source, stored_at FROM {_s}.artifacts WHERE module = $1 AND version = $2 AND kind = $3");
        command.Parameters.Add(Text(modulePath));
        command.Parameters.Add(Text(version));
        command.Parameters.Add(Text(StoreLayout.KindName(kind)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new ArtifactRecord(modulePath, version, kind, reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3));
    }

    public async Task<IReadOnlyList<string>> ListVersionsAsync(string modulePath, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT DISTINCT version FROM {_s}.artifacts WHERE module = $1");
        command.Parameters.Add(Text(modulePath));
        var versions = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var version = reader.GetString(0);
                if (SemVer.IsValid(version) && SemVer.Canonical(version) == version)
                {
                    versions.Add(version);
                }
            }
        }

        versions.Sort(SemVer.Compare);
        return versions;
    }

    public async Task<CachedAnswer?> GetAnswerAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT body, fetched_at FROM {_s}.answers WHERE key = $1");
        command.Parameters.Add(Text(key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new CachedAnswer(reader.GetFieldValue<byte[]>(0), reader.GetFieldValue<DateTimeOffset>(1))
            : null;
    }

    public async Task PutAnswerAsync(string key, byte[] body, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.answers (key, body, fetched_at) VALUES ($1, $2, $3)
            ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body, fetched_at = EXCLUDED.fetched_at
            """);
        command.Parameters.Add(Text(key));
        command.Parameters.Add(Bytes(body));
        command.Parameters.Add(Time(fetchedAt));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> PruneAnswersAsync(DateTimeOffset olderThan, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        await using var batch = _dataSource.CreateBatch();
        var old = new NpgsqlBatchCommand($"DELETE FROM {_s}.answers WHERE fetched_at < $1");
        old.Parameters.Add(Time(olderThan));
        var beyond = new NpgsqlBatchCommand($"DELETE FROM {_s}.answers WHERE key IN (SELECT key FROM {_s}.answers ORDER BY fetched_at DESC, key OFFSET $1)");
        beyond.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        batch.BatchCommands.Add(old);
        batch.BatchCommands.Add(beyond);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return checked(old.RecordsAffected + beyond.RecordsAffected);
    }

    public async Task<long> CountAnswersAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT count(*) FROM {_s}.answers");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<NegativeAnswer?> GetNegativeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT kind, reason, expires FROM {_s}.negative_answers WHERE key = $1 AND expires > $2");
        command.Parameters.Add(Text(key));
        command.Parameters.Add(Time(now));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new NegativeAnswer(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2))
            : null;
    }

    public async Task PutNegativeAsync(string key, NegativeAnswer answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answer);
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.negative_answers (key, kind, reason, expires) VALUES ($1, $2, $3, $4)
            ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, reason = EXCLUDED.reason, expires = EXCLUDED.expires
            """);
        command.Parameters.Add(Text(key));
        command.Parameters.Add(Text(answer.Kind));
        command.Parameters.Add(Text(answer.Reason));
        command.Parameters.Add(Time(answer.Expires));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveNegativeAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"DELETE FROM {_s}.negative_answers WHERE key = $1");
        command.Parameters.Add(Text(key));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetTreeHeadAsync(string database, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT note FROM {_s}.tree_heads WHERE name = $1");
        command.Parameters.Add(Text(database));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
    }

    public async Task<bool> TryAdvanceTreeHeadAsync(string database, byte[]? expected, byte[] next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        var size = SumDbCaches.TreeSizeOf(next);
        // One statement each way, so the comparison and the write are one atomic step: a concurrent update makes the
        // row re-checked against the new note, which then no longer matches.
        await using var command = expected is null
            ? _dataSource.CreateCommand($"INSERT INTO {_s}.tree_heads (name, note, size) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            : _dataSource.CreateCommand($"UPDATE {_s}.tree_heads SET note = $2, size = $3 WHERE name = $1 AND note = $4 AND $3 >= size");
        command.Parameters.Add(Text(database));
        command.Parameters.Add(Bytes(next));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = size });
        if (expected is not null)
        {
            command.Parameters.Add(Bytes(expected));
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<IHostedLogStorage> OpenHostedLogAsync(string logName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(logName);
        await using var command = _dataSource.CreateCommand($"INSERT INTO {_s}.log_heads (log, size, signed_head) VALUES ($1, 0, NULL) ON CONFLICT (log) DO NOTHING");
        command.Parameters.Add(Text(logName));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return new PostgresHostedLogStorage(_dataSource, _s, logName);
    }

    public async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return $"postgres index at {Location}: {OneLine(PostgresIndexOptions.Redact(e.Message))}";
        }
    }

    internal static NpgsqlParameter<string> Text(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = value };
    }

    internal static NpgsqlParameter<byte[]> Bytes(byte[] value) => new() { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = value };

    /// <summary>A timestamptz parameter (Npgsql takes only UTC offsets for it).</summary>
    internal static NpgsqlParameter<DateTimeOffset> Time(DateTimeOffset value) => new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = value.ToUniversalTime() };

    private static string OneLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}

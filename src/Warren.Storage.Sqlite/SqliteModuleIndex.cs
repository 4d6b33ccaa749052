using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Warren.Core.Modules;
using Warren.Protocol.SumDb;

namespace Warren.Storage.Sqlite;

/// <summary>The module index in one SQLite database file (WAL, synchronous=NORMAL, pooled connections), for a single
/// node or processes sharing one disk. Its schema is migrated at open (PRAGMA user_version).
/// <para>The index is treated as a cache of what the store holds: a database found corrupt (SQLITE_CORRUPT or
/// SQLITE_NOTADB, at open or at run time) is moved aside as PATH.corrupt-TIMESTAMP (with its -wal and -shm files), a new
/// empty one is created and the failed operation is run once more. Everything the old database held is then gone,
/// hosted checksum database logs included; the owner refills artifact records from the store when it sees
/// <see cref="Recreations"/> grow or <see cref="WhenRecreated"/> complete.</para>
/// <para>Times are kept to the millisecond.</para></summary>
public sealed partial class SqliteModuleIndex : IModuleIndex, IDisposable
{
    private readonly string _path;
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _recoveryGate = new();
    private int _generation;
    private long _recreations;
    private TaskCompletionSource _recreated = NewSignal();
    private int _disposed;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly SqliteIndexOptions _options;
    private readonly ILogger<SqliteModuleIndex>? _typedLogger;
    private readonly Lazy<SqliteModuleIndex> _hostedLogs;

    /// <summary>Opens (creating, migrating or, when corrupt, recreating) the database at options.Path.</summary>
    /// <exception cref="ArgumentException">The options are invalid (every problem, one per line).</exception>
    /// <exception cref="InvalidOperationException">The database has a newer schema than this code knows.</exception>
    public SqliteModuleIndex(SqliteIndexOptions options, TimeProvider? time = null, ILogger<SqliteModuleIndex>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _typedLogger = logger;
        _hostedLogs = new Lazy<SqliteModuleIndex>(OpenHostedLogDatabase, LazyThreadSafetyMode.ExecutionAndPublication);
        _time = time ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _path = Path.GetFullPath(options.Path);
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(_path)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        try
        {
            Initialize();
        }
        catch (SqliteException ex) when (IsCorrupt(ex))
        {
            Recover(0, ex);
        }
    }

    /// <summary>The path of the database file.</summary>
    public string Location => _path;

    /// <summary>How many times this handle found the database corrupt and recreated it empty, the open included: the
    /// owner compares it with the count it last refilled at.</summary>
    public long Recreations => Interlocked.Read(ref _recreations);

    /// <summary>Completes at the next recreation after it was read (a recreation at open is counted by
    /// <see cref="Recreations"/> only); read it again for the one after. Canceled when the index is disposed.</summary>
    public Task WhenRecreated => Volatile.Read(ref _recreated).Task;

    /// <summary>Closes the pooled connections to the database (those of other handles on the same file too).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ClearPool();
        Volatile.Read(ref _recreated).TrySetCanceled();
        if (_hostedLogs.IsValueCreated && !ReferenceEquals(_hostedLogs.Value, this))
        {
            _hostedLogs.Value.Dispose();
        }
    }

    /// <summary>The database hosted logs live in: this one when it is itself never recreated, else a database of
    /// their own that is not.</summary>
    private SqliteModuleIndex OpenHostedLogDatabase() =>
        !_options.RecreateWhenCorrupt
            ? this
            : new SqliteModuleIndex(
                new SqliteIndexOptions { Path = _options.HostedLogPath ?? Path.Combine(Path.GetDirectoryName(_path)!, "hosted.db"), RecreateWhenCorrupt = false },
                _time, _typedLogger);

    public Task RecordArtifactAsync(ArtifactRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return RecordArtifactsAsync([record], cancellationToken);
    }

    public Task RecordArtifactsAsync(IReadOnlyList<ArtifactRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return Task.CompletedTask;
        }

        return RunWriteAsync(async connection =>
        {
            // Upsert: a record that exists keeps its first fetched_at. A version's first record also gives it its feed
            // timestamp, after every other (SQLite runs one writer at a time, so no two get the same one). Many records
            // share one transaction and one prepared statement.
            await using var transaction = Sql.BeginImmediate(connection);
            await using var command = Sql.Command(connection, transaction, """
                INSERT INTO artifacts (module, version, kind, h1, size, source, fetched_at) VALUES ($m, $v, $k, $h, $s, $src, $t)
                ON CONFLICT (module, version, kind) DO UPDATE SET h1 = excluded.h1, size = excluded.size, source = excluded.source;
                INSERT INTO feed (module, version, ts)
                    SELECT $m, $v, max($us, coalesce((SELECT max(ts) FROM feed), -1) + 1)
                    WHERE NOT EXISTS (SELECT 1 FROM feed WHERE module = $m AND version = $v);
                UPDATE usage SET evicted_at = NULL WHERE module = $m AND version = $v AND evicted_at IS NOT NULL;
                """,
                ("$m", ""), ("$v", ""), ("$k", ""), ("$h", null), ("$s", 0L), ("$src", ""), ("$t", 0L), ("$us", 0L));
            var changed = 0;
            foreach (var record in records)
            {
                ArgumentNullException.ThrowIfNull(record);
                var p = command.Parameters;
                p["$m"].Value = record.ModulePath;
                p["$v"].Value = record.Version;
                p["$k"].Value = StoreLayout.KindName(record.Kind);
                p["$h"].Value = (object?)record.Hash ?? DBNull.Value;
                p["$s"].Value = record.Size;
                p["$src"].Value = record.Source;
                p["$t"].Value = Sql.ToStored(record.StoredAt);
                p["$us"].Value = Microseconds(record.StoredAt);
                changed += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return changed;
        });
    }

    public Task<IReadOnlyList<FeedEntry>> ReadFeedAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<FeedEntry>>(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT module, version, ts FROM feed WHERE ts >= $since ORDER BY ts LIMIT $limit",
                ("$since", Microseconds(since)), ("$limit", Math.Max(0, limit)));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var entries = new List<FeedEntry>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new FeedEntry(reader.GetString(0), reader.GetString(1), FromMicroseconds(reader.GetInt64(2))));
            }

            return entries;
        });

    public Task RecordVerificationAsync(VersionVerification verification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(verification);
        return RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, """
                INSERT INTO verifications (module, version, database, tree_size, verified_at) VALUES ($m, $v, $d, $s, $t)
                ON CONFLICT (module, version) DO UPDATE SET database = excluded.database, tree_size = excluded.tree_size, verified_at = excluded.verified_at
                """, ("$m", verification.ModulePath), ("$v", verification.Version), ("$d", verification.Database), ("$s", verification.TreeSize),
                ("$t", verification.VerifiedAt.ToUnixTimeMilliseconds()));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
    }

    public Task<IReadOnlyList<VersionVerification>> ReadVerificationsAsync(string modulePath, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<VersionVerification>>(async connection =>
        {
            await using var command = Sql.Command(connection, null,
                "SELECT version, database, tree_size, verified_at FROM verifications WHERE module = $m", ("$m", modulePath));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<VersionVerification>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new VersionVerification(modulePath, reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
            }

            return list;
        });

    public Task<IndexStats> GetStatsAsync(CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            // Kept by triggers as the data changes (schema version 7): a few thousand module rows, never the feed.
            await using var command = Sql.Command(connection, null, """
                SELECT (SELECT count(*) FROM modules), (SELECT coalesce(sum(versions), 0) FROM modules),
                       (SELECT value FROM totals WHERE name = 'bytes'), (SELECT value FROM totals WHERE name = 'evicted')
                """);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var evicted = reader.GetInt64(3);
            return new IndexStats(reader.GetInt64(0), Math.Max(0, reader.GetInt64(1) - evicted), Math.Max(0, reader.GetInt64(2)), evicted);
        });

    public Task<IReadOnlyList<ModuleMatch>> SearchModulesAsync(string query, string? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, ModuleSearch.MaxLimit);
        return RunAsync<IReadOnlyList<ModuleMatch>>(async connection =>
        {
            await using var command = Sql.Command(connection, null, """
                SELECT module, versions, last_ts FROM modules
                WHERE module > $after AND ($q = '' OR instr(lower(module), lower($q)) > 0)
                ORDER BY module LIMIT $limit
                """, ("$after", after ?? ""), ("$q", query), ("$limit", limit));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var matches = new List<ModuleMatch>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                matches.Add(new ModuleMatch(reader.GetString(0), reader.GetInt64(1), FromMicroseconds(reader.GetInt64(2))));
            }

            return matches;
        });
    }

    public Task RecordNodeAsync(NodeHeartbeat heartbeat, DateTimeOffset forgetBefore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        return RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, """
                INSERT INTO nodes (node, instance, version, started_at, last_seen) VALUES ($n, $i, $v, $s, $t)
                    ON CONFLICT (node, instance) DO UPDATE SET version = excluded.version, last_seen = max(last_seen, excluded.last_seen);
                DELETE FROM nodes WHERE last_seen < $forget;
                """, ("$n", heartbeat.Node), ("$i", heartbeat.Instance), ("$v", heartbeat.Version), ("$s", Sql.ToStored(heartbeat.StartedAt)),
                ("$t", Sql.ToStored(heartbeat.LastSeen)), ("$forget", Sql.ToStored(forgetBefore)));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    public Task<IReadOnlyList<NodeHeartbeat>> ReadNodesAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<NodeHeartbeat>>(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT node, instance, version, started_at, last_seen FROM nodes ORDER BY node, started_at");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var nodes = new List<NodeHeartbeat>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                nodes.Add(new NodeHeartbeat(reader.GetString(0), reader.GetString(1), reader.GetString(2), Sql.FromStored(reader.GetInt64(3)),
                    Sql.FromStored(reader.GetInt64(4))));
            }

            return nodes;
        });

    public Task<int> OpenSessionAsync(ConsoleSessionRecord session, DateTimeOffset now, int maxSessions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSessions, 1);
        return RunWriteAsync(async connection =>
        {
            using var transaction = Sql.BeginImmediate(connection);
            await using (var ended = Sql.Command(connection, transaction, "DELETE FROM sessions WHERE expires <= $now", ("$now", Sql.ToStored(now))))
            {
                await ended.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            int forgotten;
            await using (var room = Sql.Command(connection, transaction, """
                DELETE FROM sessions WHERE key IN (
                    SELECT key FROM sessions WHERE key <> $key ORDER BY expires
                    LIMIT max(0, (SELECT count(*) FROM sessions WHERE key <> $key) - $max + 1))
                """, ("$key", session.Key), ("$max", maxSessions)))
            {
                forgotten = await room.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var insert = Sql.Command(connection, transaction, """
                INSERT INTO sessions (key, principal, sealed, expires) VALUES ($key, $p, $sealed, $expires)
                    ON CONFLICT (key) DO UPDATE SET principal = excluded.principal, sealed = excluded.sealed, expires = excluded.expires
                """, ("$key", session.Key), ("$p", session.Principal), ("$sealed", session.SealedToken), ("$expires", Sql.ToStored(session.Expires))))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction.Commit();
            return forgotten;
        });
    }

    public Task<ConsoleSessionRecord?> GetSessionAsync(byte[] key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT principal, sealed, expires FROM sessions WHERE key = $key", ("$key", key));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new ConsoleSessionRecord(key, reader.GetString(0), (byte[])reader.GetValue(1), Sql.FromStored(reader.GetInt64(2)))
                : null;
        });
    }

    public Task<string?> EndSessionAsync(byte[] key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "DELETE FROM sessions WHERE key = $key RETURNING principal", ("$key", key));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        });
    }

    public Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(candidate);
        return RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, """
                INSERT INTO secrets (name, value) VALUES ($n, $v) ON CONFLICT (name) DO NOTHING;
                SELECT value FROM secrets WHERE name = $n;
                """, ("$n", name), ("$v", candidate));
            return (byte[])(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        });
    }

    public Task<string?> GetCursorAsync(string name, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT cursor FROM cursors WHERE name = $n", ("$n", name));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        });

    public Task SetCursorAsync(string name, string cursor, CancellationToken cancellationToken) =>
        RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null,
                "INSERT INTO cursors (name, cursor) VALUES ($n, $c) ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor", ("$n", name), ("$c", cursor));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    public Task RecordUsageAsync(IReadOnlyCollection<VersionUsage> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return batch.Count == 0 ? Task.CompletedTask : RunWriteAsync(async connection =>
        {
            await using var transaction = Sql.BeginImmediate(connection);
            foreach (var use in batch)
            {
                await using var command = Sql.Command(connection, transaction, """
                    INSERT INTO usage (module, version, last_access, downloads) VALUES ($m, $v, $t, $d)
                    ON CONFLICT (module, version) DO UPDATE SET last_access = max(last_access, excluded.last_access), downloads = downloads + excluded.downloads
                    """,
                    ("$m", use.ModulePath), ("$v", use.Version), ("$t", Sql.ToStored(use.LastAccess)), ("$d", use.Downloads));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return batch.Count;
        });
    }

    public Task<IReadOnlyList<VersionUsage>> ReadUsageAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<VersionUsage>>(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT module, version, last_access, downloads, evicted_at FROM usage");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var usage = new List<VersionUsage>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                usage.Add(new VersionUsage(reader.GetString(0), reader.GetString(1), Sql.FromStored(reader.GetInt64(2)), reader.GetInt64(3),
                    reader.IsDBNull(4) ? null : Sql.FromStored(reader.GetInt64(4))));
            }

            return usage;
        });

    public Task RecordEvictionsAsync(IReadOnlyCollection<(string ModulePath, string Version)> versions, DateTimeOffset evictedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(versions);
        return versions.Count == 0 ? Task.CompletedTask : RunWriteAsync(async connection =>
        {
            await using var transaction = Sql.BeginImmediate(connection);
            foreach (var (modulePath, version) in versions)
            {
                await using var command = Sql.Command(connection, transaction, """
                    INSERT INTO usage (module, version, last_access, downloads, evicted_at) VALUES ($m, $v, 0, 0, $t)
                    ON CONFLICT (module, version) DO UPDATE SET evicted_at = excluded.evicted_at
                    """,
                    ("$m", modulePath), ("$v", version), ("$t", Sql.ToStored(evictedAt)));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return versions.Count;
        });
    }

    private static long Microseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (TimeSpan.TicksPerMillisecond / 1000);

    private static DateTimeOffset FromMicroseconds(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * (TimeSpan.TicksPerMillisecond / 1000));

    public Task<ArtifactRecord?> GetArtifactAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null,
                "SELECT h1, size, source, fetched_at FROM artifacts WHERE module = $m AND version = $v AND kind = $k",
                ("$m", modulePath), ("$v", version), ("$k", StoreLayout.KindName(kind)));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return new ArtifactRecord(modulePath, version, kind, reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt64(1),
                reader.GetString(2), Sql.FromStored(reader.GetInt64(3)));
        });

    public Task<IReadOnlyList<string>> ListVersionsAsync(string modulePath, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<string>>(async connection =>
        {
            // As StoreLayout.VersionsOf: a .ziphash alone does not make a version.
            await using var command = Sql.Command(connection, null,
                "SELECT DISTINCT version FROM artifacts WHERE module = $m AND kind <> 'ziphash'", ("$m", modulePath));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var versions = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var version = reader.GetString(0);
                if (string.Equals(SemVer.Canonical(version), version, StringComparison.Ordinal))
                {
                    versions.Add(version);
                }
            }

            versions.Sort(SemVer.Compare);
            return versions;
        });

    public Task<CachedAnswer?> GetAnswerAsync(string key, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT body, fetched_at FROM answers WHERE key = $k", ("$k", key));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return new CachedAnswer((byte[])reader.GetValue(0), Sql.FromStored(reader.GetInt64(1)));
        });

    public Task PutAnswerAsync(string key, byte[] body, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        return RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "INSERT OR REPLACE INTO answers (key, body, fetched_at) VALUES ($k, $b, $t)",
                ("$k", key), ("$b", body), ("$t", Sql.ToStored(fetchedAt)));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    public Task<int> PruneAnswersAsync(DateTimeOffset olderThan, int maxCount, CancellationToken cancellationToken) =>
        RunWriteAsync(async connection =>
        {
            using var transaction = Sql.BeginImmediate(connection);
            await using var old = Sql.Command(connection, transaction, "DELETE FROM answers WHERE fetched_at < $t", ("$t", Sql.ToStored(olderThan)));
            var pruned = await old.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await using var beyond = Sql.Command(connection, transaction, """
                DELETE FROM answers WHERE key IN (SELECT key FROM answers ORDER BY fetched_at DESC, key LIMIT -1 OFFSET $max)
                """, ("$max", Math.Max(0, maxCount)));
            pruned += await beyond.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            transaction.Commit();
            return pruned;
        });

    public Task<long> CountAnswersAsync(CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT count(*) FROM answers");
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        });

    public async Task<NegativeAnswer?> GetNegativeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var answer = await RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT kind, reason, expires FROM negatives WHERE key = $k", ("$k", key));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new NegativeAnswer(reader.GetString(0), reader.GetString(1), Sql.FromStored(reader.GetInt64(2)))
                : null;
        }).ConfigureAwait(false);
        if (answer is null || answer.Expires > now)
        {
            return answer;
        }

        // Expired: forget it (unless it was replaced meanwhile by one that has not expired).
        await RunWriteAsync(async connection =>
        {
            await using var delete = Sql.Command(connection, null, "DELETE FROM negatives WHERE key = $k AND expires <= $now",
                ("$k", key), ("$now", Sql.ToStored(now)));
            return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return null;
    }

    public Task PutNegativeAsync(string key, NegativeAnswer answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null,
                "INSERT OR REPLACE INTO negatives (key, kind, reason, expires) VALUES ($k, $kind, $r, $e)",
                ("$k", key), ("$kind", answer.Kind), ("$r", answer.Reason), ("$e", Sql.ToStored(answer.Expires)));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    public Task RemoveNegativeAsync(string key, CancellationToken cancellationToken) =>
        RunWriteAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "DELETE FROM negatives WHERE key = $k", ("$k", key));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    public Task<byte[]?> GetTreeHeadAsync(string database, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT note FROM tree_heads WHERE name = $n", ("$n", database));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        });

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">next is not a signed tree note (it states no tree size).</exception>
    public Task<bool> TryAdvanceTreeHeadAsync(string database, byte[]? expected, byte[] next, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(next);
        var nextSize = SumDbCaches.TreeSizeOf(next);
        if (nextSize < 0)
        {
            throw new ArgumentException("the new tree head is not a signed tree note", nameof(next));
        }

        return RunWriteAsync(async connection =>
        {
            using var transaction = Sql.BeginImmediate(connection);
            byte[]? current = null;
            long currentSize = -1;
            await using (var read = Sql.Command(connection, transaction, "SELECT note, size FROM tree_heads WHERE name = $n", ("$n", database)))
            {
                await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    current = (byte[])reader.GetValue(0);
                    currentSize = reader.GetInt64(1);
                }
            }

            if (!SumDbCaches.SameNote(current, expected) || (current is not null && nextSize < currentSize))
            {
                return false;
            }

            await using var write = Sql.Command(connection, transaction, """
                INSERT INTO tree_heads (name, note, size) VALUES ($n, $note, $size)
                ON CONFLICT (name) DO UPDATE SET note = excluded.note, size = excluded.size
                """, ("$n", database), ("$note", next), ("$size", nextSize));
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            transaction.Commit();
            return true;
        });
    }

    /// <summary>The hosted log named logName; a new log is empty (no rows until its first append).</summary>
    public Task<IHostedLogStorage> OpenHostedLogAsync(string logName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(logName);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return Task.FromResult<IHostedLogStorage>(new SqliteHostedLogStorage(_hostedLogs.Value, logName));
    }

    /// <summary>Runs a trivial query (recovering first when the database is corrupt); null when it answers.</summary>
    public async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        for (var attempt = 0; ; attempt++)
        {
            var generation = Volatile.Read(ref _generation);
            try
            {
                await using var connection = Open();
                await using var command = Sql.Command(connection, null, "SELECT count(*) FROM answers WHERE 0");
                await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (SqliteException ex) when (attempt == 0 && IsCorrupt(ex))
            {
                try
                {
                    Recover(generation, ex);
                }
                catch (Exception recovery) when (recovery is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    return Reason(recovery);
                }
            }
            catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
            {
                return Reason(ex);
            }
        }
    }

    /// <summary>Runs an operation that writes. This process's writers take turns here, waiting asynchronously: when two
    /// met at SQLite's write lock instead, the loser got SQLITE_BUSY, which Microsoft.Data.Sqlite answers by blocking
    /// its thread for 150 ms before it tries again (a cold download saw a few of those per corpus, each on a client's
    /// request). Writers in other processes on the same file still meet the lock.</summary>
    internal async Task<T> RunWriteAsync<T>(Func<SqliteConnection, Task<T>> op)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            return await RunAsync(op).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Runs op on a pooled connection; when the database turns out corrupt, recovers and runs it once more.</summary>
    internal async Task<T> RunAsync<T>(Func<SqliteConnection, Task<T>> op)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var generation = Volatile.Read(ref _generation);
        try
        {
            await using var connection = Open();
            return await op(connection).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (IsCorrupt(ex))
        {
            Recover(generation, ex);
            await using var connection = Open();
            return await op(connection).ConfigureAwait(false);
        }
    }

    /// <summary>SQLITE_CORRUPT or SQLITE_NOTADB (primary result codes).</summary>
    internal static bool IsCorrupt(SqliteException ex) => (ex.SqliteErrorCode & 0xff) is 11 or 26;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string Reason(Exception ex) => $"SQLite index {_path}: {ex.Message.ReplaceLineEndings(" ")}";

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();

            // Not persistent: every connection sets it.
            using var command = Sql.Command(connection, null, "PRAGMA synchronous=NORMAL");
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void ClearPool()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>Creates the file (0600) if need be, turns on WAL and applies the migrations the database lacks, all in one
    /// IMMEDIATE transaction (so that handles opening it together migrate it once).</summary>
    private void Initialize()
    {
        PrivateFiles.EnsurePrivateFile(_path);
        using var connection = Open();
        using (var wal = Sql.Command(connection, null, "PRAGMA journal_mode=WAL"))
        {
            wal.ExecuteNonQuery();
        }

        long from;
        using (var transaction = Sql.BeginImmediate(connection))
        {
            using (var version = Sql.Command(connection, transaction, "PRAGMA user_version"))
            {
                from = (long)version.ExecuteScalar()!;
            }

            if (from > Schema.Version)
            {
                throw new InvalidOperationException(
                    $"SQLite index {_path} has schema version {from}, newer than this version of Warren knows ({Schema.Version})");
            }

            if (from == Schema.Version)
            {
                return;
            }

            for (var v = from; v < Schema.Version; v++)
            {
                using var migration = Sql.Command(connection, transaction, Schema.Migrations[(int)v]);
                migration.ExecuteNonQuery();
            }

            using (var stamp = Sql.Command(connection, transaction, "PRAGMA user_version = " + Schema.Version.ToString(CultureInfo.InvariantCulture)))
            {
                stamp.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        Log.MigrationApplied(_logger, _path, from, Schema.Version);
    }

    /// <summary>Moves the corrupt database aside and creates a new one, unless this handle recovered since generation or
    /// the database at the path is sound again (another handle or process recreated it).</summary>
    internal void Recover(int generation, SqliteException cause)
    {
        if (!_options.RecreateWhenCorrupt)
        {
            throw new InvalidDataException($"SQLite database {_path} is corrupt and holds what cannot be rebuilt (hosted checksum database logs): restore it from a backup", cause);
        }

        lock (_recoveryGate)
        {
            if (generation != _generation)
            {
                return;
            }

            ClearPool();
            if (IsSound())
            {
                return;
            }

            var aside = AsidePath();
            if (File.Exists(_path))
            {
                File.Move(_path, aside);
            }

            foreach (var suffix in new[] { "-wal", "-shm" })
            {
                if (File.Exists(_path + suffix))
                {
                    File.Move(_path + suffix, aside + suffix, overwrite: true);
                }
            }

            Log.IndexRecreated(_logger, _path, aside, cause.Message.ReplaceLineEndings(" "));
            Initialize();
            _generation++;
            Interlocked.Increment(ref _recreations);
            var reached = Interlocked.Exchange(ref _recreated, NewSignal());
            reached.TrySetResult();
        }
    }

    /// <summary>Whether the file at the path exists and passes SQLite's quick check.</summary>
    private bool IsSound()
    {
        if (!File.Exists(_path))
        {
            return false;
        }

        try
        {
            using var connection = Open();
            using var command = Sql.Command(connection, null, "PRAGMA quick_check(1)");
            return string.Equals(command.ExecuteScalar() as string, "ok", StringComparison.Ordinal);
        }
        catch (SqliteException ex) when (IsCorrupt(ex))
        {
            return false;
        }
        finally
        {
            ClearPool();
        }
    }

    /// <summary>PATH.corrupt-TIMESTAMP, with -2, -3, … appended when that name is taken.</summary>
    private string AsidePath()
    {
        var aside = _path + ".corrupt-" + _time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var candidate = aside;
        for (var n = 2; File.Exists(candidate); n++)
        {
            candidate = aside + "-" + n.ToString(CultureInfo.InvariantCulture);
        }

        return candidate;
    }
}

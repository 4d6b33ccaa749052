using Npgsql;
using NpgsqlTypes;
using Warren.Core.SumDb;

namespace Warren.Storage.Postgres;

/// <summary>One hosted checksum database log in PostgreSQL: its records, stored hashes and head (size and signed
/// head) as rows keyed by the log's name. Any node may append; appends serialise on the log's head row, locked for
/// the length of the appending transaction.</summary>
public sealed class PostgresHostedLogStorage : IHostedLogStorage
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _s;
    private readonly string _log;

    internal PostgresHostedLogStorage(NpgsqlDataSource dataSource, string quotedSchema, string logName)
    {
        _dataSource = dataSource;
        _s = quotedSchema;
        _log = logName;
    }

    public async Task<HostedLogState?> ReadStateAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT size, signed_head FROM {_s}.log_heads WHERE log = $1");
        command.Parameters.Add(PostgresModuleIndex.Text(_log));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || reader.IsDBNull(1))
        {
            return null;
        }

        return new HostedLogState(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1));
    }

    public async Task<IReadOnlyList<byte[]>> ReadRecordsAsync(long first, int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        await using var command = _dataSource.CreateCommand($"SELECT id, text FROM {_s}.log_records WHERE log = $1 AND id >= $2 AND id < $3 ORDER BY id");
        command.Parameters.Add(PostgresModuleIndex.Text(_log));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = first });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = first + count });
        var texts = new List<byte[]>(count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.GetInt64(0) != first + texts.Count)
                {
                    break;
                }

                texts.Add(reader.GetFieldValue<byte[]>(1));
            }
        }

        return texts.Count == count
            ? texts
            : throw new InvalidOperationException($"hosted log {_log}: record {first + texts.Count} is not stored (asked for {first}..{first + count - 1})");
    }

    public async Task<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> storageIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storageIndexes);
        if (storageIndexes.Count == 0)
        {
            return [];
        }

        await using var command = _dataSource.CreateCommand($"SELECT storage_index, hash FROM {_s}.log_hashes WHERE log = $1 AND storage_index = ANY($2)");
        command.Parameters.Add(PostgresModuleIndex.Text(_log));
        command.Parameters.Add(new NpgsqlParameter<long[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, TypedValue = storageIndexes.Distinct().ToArray() });
        var found = new Dictionary<long, LogHash>(storageIndexes.Count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found[reader.GetInt64(0)] = new LogHash(reader.GetFieldValue<byte[]>(1));
            }
        }

        var hashes = new LogHash[storageIndexes.Count];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = found.TryGetValue(storageIndexes[i], out var hash)
                ? hash
                : throw new InvalidOperationException($"hosted log {_log}: hash {storageIndexes[i]} is not stored");
        }

        return hashes;
    }

    public async Task<long?> FindAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT id FROM {_s}.log_records WHERE log = $1 AND module = $2 AND version = $3 ORDER BY id LIMIT 1");
        command.Parameters.Add(PostgresModuleIndex.Text(_log));
        command.Parameters.Add(PostgresModuleIndex.Text(modulePath));
        command.Parameters.Add(PostgresModuleIndex.Text(version));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long id ? id : null;
    }

    public async Task<bool> TryAppendAsync(long expectedSize, IReadOnlyList<HostedLogEntry> entries, IReadOnlyList<LogHash> hashes, byte[] signedHead, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedSize);
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(signedHead);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // The head row is the append lock: every appender waits here for the one before it to commit.
                await using (var ensure = new NpgsqlCommand($"INSERT INTO {_s}.log_heads (log, size, signed_head) VALUES ($1, 0, NULL) ON CONFLICT (log) DO NOTHING", connection, transaction))
                {
                    ensure.Parameters.Add(PostgresModuleIndex.Text(_log));
                    await ensure.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                long size;
                await using (var lockHead = new NpgsqlCommand($"SELECT size FROM {_s}.log_heads WHERE log = $1 FOR UPDATE", connection, transaction))
                {
                    lockHead.Parameters.Add(PostgresModuleIndex.Text(_log));
                    size = (long)(await lockHead.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                }

                if (size != expectedSize)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return false;
                }

                await using var batch = new NpgsqlBatch(connection, transaction);
                if (entries.Count > 0)
                {
                    var records = new NpgsqlBatchCommand($"INSERT INTO {_s}.log_records (log, id, module, version, text) SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bytea[])");
                    records.Parameters.Add(PostgresModuleIndex.Text(_log));
                    records.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = Enumerable.Range(0, entries.Count).Select(i => expectedSize + i).ToArray() });
                    records.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = entries.Select(e => e.ModulePath).ToArray() });
                    records.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = entries.Select(e => e.Version).ToArray() });
                    records.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = entries.Select(e => e.Text).ToArray() });
                    batch.BatchCommands.Add(records);
                }

                if (hashes.Count > 0)
                {
                    var firstIndex = Tlog.StoredHashCount(expectedSize);
                    var stored = new NpgsqlBatchCommand($"INSERT INTO {_s}.log_hashes (log, storage_index, hash) SELECT $1, * FROM unnest($2::bigint[], $3::bytea[])");
                    stored.Parameters.Add(PostgresModuleIndex.Text(_log));
                    stored.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = Enumerable.Range(0, hashes.Count).Select(i => firstIndex + i).ToArray() });
                    stored.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = hashes.Select(h => h.ToArray()).ToArray() });
                    batch.BatchCommands.Add(stored);
                }

                var head = new NpgsqlBatchCommand($"UPDATE {_s}.log_heads SET size = $2, signed_head = $3 WHERE log = $1");
                head.Parameters.Add(PostgresModuleIndex.Text(_log));
                head.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedSize + entries.Count });
                head.Parameters.Add(PostgresModuleIndex.Bytes(signedHead));
                batch.BatchCommands.Add(head);
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    /// <summary>Nothing to release: the data source belongs to the index.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

using Warren.Core.SumDb;

namespace Warren.Storage.Sqlite;

/// <summary>One hosted checksum database log in the SQLite index: its records (id → text, module, version), stored
/// hashes (storage index → 32 bytes) and signed head (size, note), in rows keyed by the log's name. Appends are one
/// IMMEDIATE transaction that first checks the size, so handles on one file append in turn and none twice at a size.</summary>
public sealed class SqliteHostedLogStorage : IHostedLogStorage
{
    private readonly SqliteModuleIndex _index;

    internal SqliteHostedLogStorage(SqliteModuleIndex index, string name)
    {
        _index = index;
        Name = name;
    }

    /// <summary>The log's name.</summary>
    public string Name { get; }

    public Task<HostedLogState?> ReadStateAsync(CancellationToken cancellationToken) =>
        _index.RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, "SELECT size, head FROM hosted_log_heads WHERE log = $l", ("$l", Name));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return new HostedLogState(reader.GetInt64(0), (byte[])reader.GetValue(1));
        });

    /// <exception cref="InvalidDataException">A requested record is not in the log.</exception>
    public Task<IReadOnlyList<byte[]>> ReadRecordsAsync(long first, int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return _index.RunAsync<IReadOnlyList<byte[]>>(async connection =>
        {
            var records = new List<byte[]>(count);
            if (count == 0)
            {
                return records;
            }

            await using var command = Sql.Command(connection, null,
                "SELECT id, record FROM hosted_log_records WHERE log = $l AND id >= $first AND id < $end ORDER BY id",
                ("$l", Name), ("$first", first), ("$end", first + count));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var id = reader.GetInt64(0);
                if (id != first + records.Count)
                {
                    break;
                }

                records.Add((byte[])reader.GetValue(1));
            }

            if (records.Count != count)
            {
                throw new InvalidDataException($"hosted log {Name}: record {first + records.Count} is missing");
            }

            return records;
        });
    }

    /// <exception cref="InvalidDataException">A requested hash is not stored, or is not 32 bytes.</exception>
    public Task<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> storageIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storageIndexes);
        return _index.RunAsync<IReadOnlyList<LogHash>>(async connection =>
        {
            var hashes = new List<LogHash>(storageIndexes.Count);
            if (storageIndexes.Count == 0)
            {
                return hashes;
            }

            await using var command = Sql.Command(connection, null, "SELECT hash FROM hosted_log_hashes WHERE log = $l AND idx = $i",
                ("$l", Name), ("$i", 0L));
            foreach (var index in storageIndexes)
            {
                command.Parameters["$i"].Value = index;
                if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not byte[] { Length: LogHash.Size } hash)
                {
                    throw new InvalidDataException($"hosted log {Name}: stored hash {index} is missing");
                }

                hashes.Add(new LogHash(hash));
            }

            return hashes;
        });
    }

    public Task<long?> FindAsync(string modulePath, string version, CancellationToken cancellationToken) =>
        _index.RunAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null,
                "SELECT min(id) FROM hosted_log_records WHERE log = $l AND module = $m AND version = $v",
                ("$l", Name), ("$m", modulePath), ("$v", version));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long id ? id : (long?)null;
        });

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The log holds expectedSize records but the number of hashes is not the number
    /// the new records add (nothing is written).</exception>
    public Task<bool> TryAppendAsync(long expectedSize, IReadOnlyList<HostedLogEntry> entries, IReadOnlyList<LogHash> hashes, byte[] signedHead, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedSize);
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(signedHead);
        var newSize = expectedSize + entries.Count;
        var firstHash = Tlog.StoredHashCount(expectedSize);
        var added = Tlog.StoredHashCount(newSize) - firstHash;

        return _index.RunWriteAsync(async connection =>
        {
            using var transaction = Sql.BeginImmediate(connection);
            await using (var read = Sql.Command(connection, transaction, "SELECT size FROM hosted_log_heads WHERE log = $l", ("$l", Name)))
            {
                var size = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long s ? s : 0;
                if (size != expectedSize)
                {
                    return false;
                }
            }

            // Checked once the size is known to match: an append that lost the race is a plain false.
            if (added != hashes.Count)
            {
                throw new ArgumentException($"{entries.Count} records from {expectedSize} on add {added} stored hashes, not {hashes.Count}", nameof(hashes));
            }

            await using (var insert = Sql.Command(connection, transaction,
                "INSERT INTO hosted_log_records (log, id, record, module, version) VALUES ($l, $id, $r, $m, $v)",
                ("$l", Name), ("$id", 0L), ("$r", Array.Empty<byte>()), ("$m", ""), ("$v", "")))
            {
                for (var i = 0; i < entries.Count; i++)
                {
                    var entry = entries[i];
                    insert.Parameters["$id"].Value = expectedSize + i;
                    insert.Parameters["$r"].Value = entry.Text;
                    insert.Parameters["$m"].Value = entry.ModulePath;
                    insert.Parameters["$v"].Value = entry.Version;
                    await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await using (var insert = Sql.Command(connection, transaction,
                "INSERT INTO hosted_log_hashes (log, idx, hash) VALUES ($l, $i, $h)", ("$l", Name), ("$i", 0L), ("$h", Array.Empty<byte>())))
            {
                for (var i = 0; i < hashes.Count; i++)
                {
                    insert.Parameters["$i"].Value = firstHash + i;
                    insert.Parameters["$h"].Value = hashes[i].ToArray();
                    await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await using (var head = Sql.Command(connection, transaction, """
                INSERT INTO hosted_log_heads (log, size, head) VALUES ($l, $s, $h)
                ON CONFLICT (log) DO UPDATE SET size = excluded.size, head = excluded.head
                """, ("$l", Name), ("$s", newSize), ("$h", signedHead)))
            {
                await head.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction.Commit();
            return true;
        });
    }

    /// <summary>Nothing to release: the log's connections belong to the index.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

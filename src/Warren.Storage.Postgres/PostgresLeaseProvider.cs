using Npgsql;

namespace Warren.Storage.Postgres;

/// <summary>An <see cref="ILeaseProvider"/> across every node on the same database and schema: one row of
/// <c>leases(key, holder, token, expires_at)</c> per held key. Expiry is judged by the database's clock alone
/// (<c>clock_timestamp()</c>), so nodes' clocks need not agree; fencing tokens come from a sequence that only grows.</summary>
public sealed class PostgresLeaseProvider(NpgsqlDataSource dataSource, PostgresIndexOptions options) : ILeaseProvider
{
    private readonly NpgsqlDataSource _dataSource = dataSource ?? throw new ArgumentNullException(nameof(dataSource));
    private readonly string _s = PostgresMigrations.Quote((options ?? throw new ArgumentNullException(nameof(options))).Schema);

    /// <summary>This provider's name in the holder column (host, process, instance), for operators reading the table.</summary>
    public string Holder { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public async Task<ILease?> TryAcquireAsync(string key, TimeSpan duration, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        // A new row, or the row of a lease that expired: one statement, so two nodes cannot both take it.
        await using var command = _dataSource.CreateCommand($"""
            INSERT INTO {_s}.leases AS l (key, holder, token, expires_at)
            VALUES ($1, $2, nextval('{_s.Replace("'", "''", StringComparison.Ordinal)}.lease_tokens'), clock_timestamp() + $3)
            ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
                WHERE l.expires_at < clock_timestamp()
            RETURNING token, expires_at
            """);
        command.Parameters.Add(PostgresModuleIndex.Text(key));
        command.Parameters.Add(PostgresModuleIndex.Text(Holder));
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = duration });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false)
            ? new Lease(this, key, reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1))
            : null;
    }

    private sealed class Lease(PostgresLeaseProvider owner, string key, long token, DateTimeOffset expiresAt) : ILease
    {
        private int _released;

        public string Key => key;

        public long FencingToken => token;

        public DateTimeOffset ExpiresAt { get; private set; } = expiresAt;

        public async Task<bool> RenewAsync(TimeSpan duration, CancellationToken ct)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
            if (Volatile.Read(ref _released) != 0)
            {
                return false;
            }

            await using var command = owner._dataSource.CreateCommand(
                $"UPDATE {owner._s}.leases SET expires_at = clock_timestamp() + $4 WHERE key = $1 AND holder = $2 AND token = $3 RETURNING expires_at");
            command.Parameters.Add(PostgresModuleIndex.Text(key));
            command.Parameters.Add(PostgresModuleIndex.Text(owner.Holder));
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = token });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = duration });
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return false;
            }

            ExpiresAt = reader.GetFieldValue<DateTimeOffset>(0);
            return true;
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            await using var command = owner._dataSource.CreateCommand($"DELETE FROM {owner._s}.leases WHERE key = $1 AND token = $2");
            command.Parameters.Add(PostgresModuleIndex.Text(key));
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = token });
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}

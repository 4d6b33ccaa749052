using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Warren.Storage.Postgres;

/// <summary>An <see cref="IKeyLock"/> across every node on the same database: a session-level
/// <c>pg_advisory_lock(bigint)</c> on a 64-bit hash of the schema and the key, held on a connection of its own until
/// released. Two keys whose hashes collide share one lock: that only serialises more than needed, it never lets two
/// holders of one key in. If a node dies, its session ends and the database releases its locks. Each held key takes
/// one connection of the data source's pool (Maximum Pool Size) until it is released, so hold keys briefly.</summary>
public sealed class PostgresKeyLock(NpgsqlDataSource dataSource, PostgresIndexOptions options) : IKeyLock
{
    private readonly NpgsqlDataSource _dataSource = dataSource ?? throw new ArgumentNullException(nameof(dataSource));
    private readonly string _schema = (options ?? throw new ArgumentNullException(nameof(options))).Schema;

    public async ValueTask<IAsyncDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var id = LockIdOf(_schema, key);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using (var command = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection))
            {
                // Waiting is bounded by the caller's cancellation, not by the command timeout. Cancelling makes Npgsql
                // cancel the statement on the server: the lock is then not taken.
                command.CommandTimeout = 0;
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // Granted just as the caller gave up: give it back rather than hand out a lock nobody waits for.
            if (cancellationToken.IsCancellationRequested)
            {
                await UnlockAsync(connection, id).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            return new Held(connection, id);
        }
        catch
        {
            // Whatever happened, this session must hold nothing when the connection goes back to the pool.
            await UnlockAllAsync(connection).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The advisory lock id of a key: the first 8 bytes of SHA-256 over schema, NUL and key (big-endian).</summary>
    public static long LockIdOf(string schema, string key)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(schema + "\0" + key), hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    private static async Task UnlockAsync(NpgsqlConnection connection, long id)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task UnlockAllAsync(NpgsqlConnection connection)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            return; // broken: the session is gone, and its locks with it
        }

        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection);
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // Not known to be clean: have the pool close this connection instead of reusing it, which ends the session.
            NpgsqlConnection.ClearPool(connection);
        }
    }

    private sealed class Held(NpgsqlConnection connection, long id) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            try
            {
                await UnlockAsync(connection, id).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // Not known to be released: have the pool close this connection instead of reusing it, which ends
                // the session and so releases the lock.
                NpgsqlConnection.ClearPool(connection);
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

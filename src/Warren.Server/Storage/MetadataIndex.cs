using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Warren.Server.Configuration;

namespace Warren.Server.Storage;

/// <summary>A cached mutable answer (list, @latest, a version query, a sumdb latest) and when it was fetched.</summary>
public sealed record CachedAnswer(byte[] Body, DateTimeOffset FetchedAt);

/// <summary>The embedded SQLite index: h1 hashes, origin and fetch time of artifacts; cached list/latest answers.</summary>
public sealed class MetadataIndex
{
    private readonly string _connectionString;

    public MetadataIndex(IOptions<WarrenOptions> options)
    {
        var dir = Path.Combine(Path.GetFullPath(options.Value.Root!), ".warren");
        Directory.CreateDirectory(dir);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dir, "index.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS artifacts (
                module TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL,
                h1 TEXT, size INTEGER NOT NULL, source TEXT NOT NULL, fetched_at INTEGER NOT NULL,
                PRIMARY KEY (module, version, kind));
            CREATE TABLE IF NOT EXISTS answers (
                key TEXT NOT NULL PRIMARY KEY, body BLOB NOT NULL, fetched_at INTEGER NOT NULL);
            """;
        command.ExecuteNonQuery();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    public async Task RecordArtifactAsync(string module, string version, ArtifactKind kind, string? h1, long size, string source, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO artifacts VALUES ($m, $v, $k, $h, $s, $src, $t)";
        command.Parameters.AddWithValue("$m", module);
        command.Parameters.AddWithValue("$v", version);
        command.Parameters.AddWithValue("$k", kind.ToString().ToLowerInvariant());
        command.Parameters.AddWithValue("$h", (object?)h1 ?? DBNull.Value);
        command.Parameters.AddWithValue("$s", size);
        command.Parameters.AddWithValue("$src", source);
        command.Parameters.AddWithValue("$t", at.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<string?> GetHashAsync(string module, string version, ArtifactKind kind, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT h1 FROM artifacts WHERE module=$m AND version=$v AND kind=$k";
        command.Parameters.AddWithValue("$m", module);
        command.Parameters.AddWithValue("$v", version);
        command.Parameters.AddWithValue("$k", kind.ToString().ToLowerInvariant());
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task<CachedAnswer?> GetAnswerAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT body, fetched_at FROM answers WHERE key=$k";
        command.Parameters.AddWithValue("$k", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new CachedAnswer((byte[])reader.GetValue(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
    }

    public async Task PutAnswerAsync(string key, byte[] body, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO answers VALUES ($k, $b, $t)";
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$b", body);
        command.Parameters.AddWithValue("$t", at.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public bool IsHealthy(out string? reason)
    {
        try
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM answers WHERE 0";
            command.ExecuteScalar();
            reason = null;
            return true;
        }
        catch (SqliteException ex)
        {
            reason = "metadata index: " + ex.Message;
            return false;
        }
    }
}

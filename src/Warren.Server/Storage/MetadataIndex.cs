using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Warren.Core.Modules;
using Warren.Server.Configuration;
using Warren.Server.Observability;

namespace Warren.Server.Storage;

/// <summary>A cached mutable answer (list, @latest, a version query, a sumdb latest) and when it was fetched.</summary>
public sealed record CachedAnswer(byte[] Body, DateTimeOffset FetchedAt);

/// <summary>The embedded SQLite index: h1 hashes, origin and fetch time of artifacts; cached list/latest answers.
/// It is a cache of what the store holds: a corrupt database (at start-up or found at run time) is moved aside as
/// index.db.corrupt-TIMESTAMP, a new one is created and its artifacts table refilled from the store.</summary>
public sealed class MetadataIndex : IDisposable
{
    public const string FileName = "index.db";

    private readonly string _directory;
    private readonly string _path;
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _recoveryGate = new();
    private int _generation;

    public MetadataIndex(IOptions<WarrenOptions> options, StoreLock storeLock, TimeProvider? time = null, ILogger<MetadataIndex>? logger = null)
    {
        _ = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _directory = Path.Combine(storeLock.Root, ".warren");
        StoreFiles.EnsurePrivateDirectory(_directory);
        _path = Path.Combine(_directory, FileName);
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
            Recover(_generation, ex);
        }
    }

    /// <summary>Finishes when the artifacts table has been refilled after a recovery (at once when there was none).</summary>
    public Task Rebuilt { get; private set; } = Task.CompletedTask;

    private void Initialize()
    {
        if (!File.Exists(_path))
        {
            // Created empty with mode 0600 (SQLite's journal files take the database's mode).
            using var created = StoreFiles.OpenPrivate(_path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }

        StoreFiles.MakePrivate(_path);
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
            CREATE INDEX IF NOT EXISTS answers_fetched_at ON answers (fetched_at);
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>Closes the pooled connections to this database.</summary>
    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>SQLITE_CORRUPT or SQLITE_NOTADB (primary codes).</summary>
    internal static bool IsCorrupt(SqliteException ex) => (ex.SqliteErrorCode & 0xff) is 11 or 26;

    /// <summary>Moves the corrupt database aside (unless another caller already did since generation), creates a new
    /// one and refills its artifacts table from the store in the background.</summary>
    private void Recover(int generation, SqliteException cause)
    {
        lock (_recoveryGate)
        {
            if (generation != _generation)
            {
                return;
            }

            SqliteConnection.ClearAllPools();
            var aside = _path + ".corrupt-" + _time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
            File.Move(_path, aside, overwrite: true);
            foreach (var suffix in new[] { "-wal", "-shm" })
            {
                if (File.Exists(_path + suffix))
                {
                    File.Move(_path + suffix, aside + suffix, overwrite: true);
                }
            }

            Log.IndexCorrupt(_logger, _path, aside, cause.Message);
            Initialize();
            _generation++;
            Rebuilt = Task.Run(RebuildFromStoreAsync);
        }
    }

    /// <summary>Runs op on a connection; when the database turns out corrupt, recovers and runs it once more.</summary>
    private async Task<T> RunAsync<T>(Func<SqliteConnection, Task<T>> op)
    {
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

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    public Task RecordArtifactAsync(string module, string version, ArtifactKind kind, string? h1, long size, string source, DateTimeOffset at, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO artifacts VALUES ($m, $v, $k, $h, $s, $src, $t)";
            command.Parameters.AddWithValue("$m", module);
            command.Parameters.AddWithValue("$v", version);
            command.Parameters.AddWithValue("$k", kind.ToString().ToLowerInvariant());
            command.Parameters.AddWithValue("$h", (object?)h1 ?? DBNull.Value);
            command.Parameters.AddWithValue("$s", size);
            command.Parameters.AddWithValue("$src", source);
            command.Parameters.AddWithValue("$t", at.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    public Task<string?> GetHashAsync(string module, string version, ArtifactKind kind, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT h1 FROM artifacts WHERE module=$m AND version=$v AND kind=$k";
            command.Parameters.AddWithValue("$m", module);
            command.Parameters.AddWithValue("$v", version);
            command.Parameters.AddWithValue("$k", kind.ToString().ToLowerInvariant());
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        });

    public Task<CachedAnswer?> GetAnswerAsync(string key, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT body, fetched_at FROM answers WHERE key=$k";
            command.Parameters.AddWithValue("$k", key);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return new CachedAnswer((byte[])reader.GetValue(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
        });

    public Task PutAnswerAsync(string key, byte[] body, DateTimeOffset at, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO answers VALUES ($k, $b, $t)";
            command.Parameters.AddWithValue("$k", key);
            command.Parameters.AddWithValue("$b", body);
            command.Parameters.AddWithValue("$t", at.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    /// <summary>Deletes cached answers fetched before olderThan, then the oldest ones beyond maxCount; returns how many.</summary>
    public Task<int> PruneAnswersAsync(DateTimeOffset olderThan, int maxCount, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                DELETE FROM answers WHERE fetched_at < $t;
                DELETE FROM answers WHERE key IN (
                    SELECT key FROM answers ORDER BY fetched_at DESC LIMIT -1 OFFSET $max);
                """;
            command.Parameters.AddWithValue("$t", olderThan.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$max", Math.Max(0, maxCount));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });

    /// <summary>How many answers are cached.</summary>
    public Task<long> CountAnswersAsync(CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM answers";
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        });

    public bool IsHealthy(out string? reason)
    {
        for (var attempt = 0; ; attempt++)
        {
            var generation = Volatile.Read(ref _generation);
            try
            {
                using var connection = Open();
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT count(*) FROM answers WHERE 0";
                command.ExecuteScalar();
                reason = null;
                return true;
            }
            catch (SqliteException ex) when (attempt == 0 && IsCorrupt(ex))
            {
                Recover(generation, ex);
            }
            catch (SqliteException ex)
            {
                reason = "metadata index: " + ex.Message;
                return false;
            }
        }
    }

    /// <summary>Refills the artifacts table from the store's files: the zip h1 from its .ziphash, the go.mod h1
    /// computed, the fetch time from the file's modification time.</summary>
    private async Task RebuildFromStoreAsync()
    {
        var root = Path.GetDirectoryName(_directory)!;
        var count = 0;
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(root, "@v", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, Path.GetDirectoryName(dir)!).Replace(Path.DirectorySeparatorChar, '/');
                if (relative.StartsWith(".warren", StringComparison.Ordinal) || relative.StartsWith("cache/", StringComparison.Ordinal) ||
                    !ModulePath.TryUnescapePath(relative, out var module, out _))
                {
                    continue;
                }

                foreach (var file in Directory.EnumerateFiles(dir))
                {
                    var name = Path.GetFileName(file);
                    var dot = name.LastIndexOf('.');
                    if (dot <= 0 || !ModulePath.TryUnescapeVersion(name[..dot], out var version, out _))
                    {
                        continue;
                    }

                    ArtifactKind kind;
                    string? hash = null;
                    switch (name[dot..])
                    {
                        case ".zip":
                            kind = ArtifactKind.Zip;
                            hash = File.Exists(file + "hash") ? (await File.ReadAllTextAsync(file + "hash").ConfigureAwait(false)).Trim() : null;
                            break;
                        case ".mod":
                            kind = ArtifactKind.Mod;
                            hash = DirHash.HashGoMod(await File.ReadAllBytesAsync(file).ConfigureAwait(false));
                            break;
                        case ".info":
                            kind = ArtifactKind.Info;
                            break;
                        default:
                            continue;
                    }

                    var info = new FileInfo(file);
                    await RecordArtifactAsync(module, version, kind, hash, info.Length, "store", new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), CancellationToken.None)
                        .ConfigureAwait(false);
                    count++;
                }
            }

            Log.IndexRebuilt(_logger, _path, count);
        }
#pragma warning disable CA1031 // A background refill: a failure is logged, the index stays a (partial) cache.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.IndexRebuildFailed(_logger, _path, ex);
        }
    }
}

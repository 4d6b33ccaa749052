using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Warren.Core.SumDb;
using Warren.Storage.Sqlite;
using Warren.Testing;

namespace Warren.Storage.Tests;

/// <summary>What only the SQLite index does: migrating the server's first index.db, recreating a corrupt database,
/// private file modes, options validation, and compare-and-swap under real parallel writers.</summary>
public sealed class SqliteIndexTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly string _dir = TestPaths.NewTempDir("sqlite-index");
    private readonly List<SqliteModuleIndex> _opened = [];

    private static CancellationToken Ct => CancellationToken.None;

    private string DbPath => Path.Combine(_dir, "index.db");

    private string HostedPath => Path.Combine(_dir, "hosted.db");

    public void Dispose()
    {
        foreach (var index in _opened)
        {
            index.Dispose();
        }

        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task An_index_of_the_first_schema_opens_migrates_and_keeps_its_rows()
    {
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            Execute(connection, """
                PRAGMA journal_mode=WAL;
                CREATE TABLE IF NOT EXISTS artifacts (
                    module TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL,
                    h1 TEXT, size INTEGER NOT NULL, source TEXT NOT NULL, fetched_at INTEGER NOT NULL,
                    PRIMARY KEY (module, version, kind));
                CREATE TABLE IF NOT EXISTS answers (
                    key TEXT NOT NULL PRIMARY KEY, body BLOB NOT NULL, fetched_at INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS answers_fetched_at ON answers (fetched_at);
                """);
            Execute(connection, $"INSERT INTO artifacts VALUES ('m.example/old', 'v1.0.0', 'zip', 'h1:old=', 5, 'https://up', {T0.ToUnixTimeMilliseconds()})");
            Execute(connection, $"INSERT INTO answers VALUES ('list:m.example/old', x'7631', {T0.ToUnixTimeMilliseconds()})");
        }

        using var loggers = new CapturingLoggerProvider();
        using var factory = new LoggerFactory([loggers]);
        var index = Open(logger: factory.CreateLogger<SqliteModuleIndex>());

        var record = await index.GetArtifactAsync("m.example/old", "v1.0.0", ArtifactKind.Zip, Ct);
        Assert.Equal(new ArtifactRecord("m.example/old", "v1.0.0", ArtifactKind.Zip, "h1:old=", 5, "https://up", T0), record);
        Assert.Equal("v1"u8.ToArray(), (await index.GetAnswerAsync("list:m.example/old", Ct))?.Body);
        Assert.Equal(["v1.0.0"], await index.ListVersionsAsync("m.example/old", Ct));
        Assert.Equal(8L, UserVersion());
        Assert.Contains(loggers.Lines, l => l.Contains("schema migrated from version 0 to 8", StringComparison.Ordinal));

        // The counts and the module rows of version 7 start from what was there.
        Assert.Equal(new IndexStats(1, 1, 5, 0), await index.GetStatsAsync(Ct));
        Assert.Equal(["m.example/old"], (await index.SearchModulesAsync("OLD", null, 10, Ct)).Select(m => m.ModulePath));

        // The versions recorded before the feed existed are in it, at the time they were first stored.
        Assert.Equal([new FeedEntry("m.example/old", "v1.0.0", T0)], await index.ReadFeedAsync(DateTimeOffset.UnixEpoch, 10, Ct));

        // What version 2 added works, and a second open migrates nothing.
        await index.PutNegativeAsync("info:m@v9", new("NotFound", "no", T0.AddHours(1)), Ct);
        Assert.NotNull(await index.GetNegativeAsync("info:m@v9", T0, Ct));
        Assert.True(await index.TryAdvanceTreeHeadAsync("sum.golang.org", null, Note(3), Ct));
        var before = loggers.Lines.Count;
        _ = Open(logger: factory.CreateLogger<SqliteModuleIndex>());
        Assert.Equal(before, loggers.Lines.Count);
    }

    [Fact]
    public void An_index_of_a_newer_schema_is_refused()
    {
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            Execute(connection, "CREATE TABLE future (x); PRAGMA user_version = 99;");
        }

        var ex = Assert.Throws<InvalidOperationException>(() => Open());
        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(DbPath));
        Assert.Empty(Directory.EnumerateFiles(_dir, "index.db.corrupt-*"));
    }

    [Fact]
    public async Task A_corrupt_file_is_moved_aside_and_a_new_index_created()
    {
        var garbage = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("this is not an SQLite database. ", 256)));
        await File.WriteAllBytesAsync(DbPath, garbage);

        using var loggers = new CapturingLoggerProvider();
        using var factory = new LoggerFactory([loggers]);
        var index = Open(new ManualTimeProvider(T0), factory.CreateLogger<SqliteModuleIndex>());

        Assert.Equal(1, index.Recreations);
        var aside = Path.Combine(_dir, "index.db.corrupt-20260102T030405Z");
        Assert.Equal(garbage, await File.ReadAllBytesAsync(aside));
        Assert.Null(await index.ProbeAsync(Ct));
        await index.PutAnswerAsync("k", [7], T0, Ct);
        Assert.Equal([7], (await index.GetAnswerAsync("k", Ct))?.Body);
        Assert.Equal(8L, UserVersion());
        Assert.Contains(loggers.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains(aside, StringComparison.Ordinal));
        Assert.False(index.WhenRecreated.IsCompleted);
    }

    [Fact]
    public async Task Corruption_found_at_run_time_recreates_the_index_and_retries_once()
    {
        var index = Open(new ManualTimeProvider(T0));
        await index.RecordArtifactAsync(new("m.example/a", "v1.0.0", ArtifactKind.Mod, "h1:m=", 3, "up", T0), Ct);
        var recreated = index.WhenRecreated;
        Assert.False(recreated.IsCompleted);

        // Another aside of the same second exists already: the new one gets a suffix.
        await File.WriteAllTextAsync(DbPath + ".corrupt-20260102T030405Z", "earlier");
        Corrupt();

        await index.PutAnswerAsync("k", [1], T0, Ct);
        Assert.Equal(1, index.Recreations);
        await recreated.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([1], (await index.GetAnswerAsync("k", Ct))?.Body);
        Assert.Null(await index.GetArtifactAsync("m.example/a", "v1.0.0", ArtifactKind.Mod, Ct));
        Assert.Equal("earlier", await File.ReadAllTextAsync(DbPath + ".corrupt-20260102T030405Z"));
        Assert.True(File.Exists(DbPath + ".corrupt-20260102T030405Z-2"));
        Assert.False(index.WhenRecreated.IsCompleted);
    }

    [Fact]
    public async Task The_probe_recovers_a_corrupt_index()
    {
        var index = Open();
        Corrupt();
        Assert.Null(await index.ProbeAsync(Ct));
        Assert.Equal(1, index.Recreations);
        Assert.Single(Directory.EnumerateFiles(_dir, "index.db.corrupt-*"), f => !f.EndsWith("-wal", StringComparison.Ordinal) && !f.EndsWith("-shm", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_handle_does_not_move_aside_a_database_the_first_already_recreated()
    {
        var first = Open();
        var second = Open();
        Corrupt();
        Assert.Null(await first.ProbeAsync(Ct));
        await first.PutAnswerAsync("kept", [1], T0, Ct);

        // The second handle met the corruption too, before the first recreated the database, and recovers now.
        second.Recover(0, new SqliteException("SQLite Error 26: 'file is not a database'.", 26));
        Assert.Null(await second.ProbeAsync(Ct));
        Assert.Equal([1], (await second.GetAnswerAsync("kept", Ct))?.Body);
        Assert.Equal((1L, 0L), (first.Recreations, second.Recreations));
        Assert.Single(Directory.EnumerateFiles(_dir, "index.db.corrupt-*"), f => !f.EndsWith("-wal", StringComparison.Ordinal) && !f.EndsWith("-shm", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_database_is_private()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Fail("file modes are checked on Unix only");
            return;
        }

        var path = Path.Combine(_dir, "new", "deeper", "index.db");
        var index = Open(path: path);
        await index.PutAnswerAsync("k", [1], T0, Ct);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path + "-wal"));
        var rwx = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(rwx, File.GetUnixFileMode(Path.Combine(_dir, "new", "deeper")));
        Assert.Equal(rwx, File.GetUnixFileMode(Path.Combine(_dir, "new")));
    }

    [Fact]
    public void Options_are_validated_one_line_per_problem()
    {
        Assert.Empty(new SqliteIndexOptions { Path = "/var/lib/warren/index.db" }.Validate());
        Assert.Equal(["SQLite index: Path is required (the absolute path of the database file)"], new SqliteIndexOptions { Path = "" }.Validate());
        Assert.Equal(["SQLite index: Path must be absolute, not data/index.db"], new SqliteIndexOptions { Path = "data/index.db" }.Validate());
        Assert.Equal(["SQLite index: Path must be absolute, not data/", "SQLite index: Path must name a file, not a directory: data/"],
            new SqliteIndexOptions { Path = "data/" }.Validate());

        var ex = Assert.Throws<ArgumentException>(() => new SqliteModuleIndex(new SqliteIndexOptions { Path = "index.db" }));
        Assert.Equal("SQLite index: Path must be absolute, not index.db", ex.Message);
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddSqliteIndex(new SqliteIndexOptions { Path = " " }));
    }

    [Fact]
    public async Task AddSqliteIndex_registers_one_singleton_under_both_types()
    {
        var services = new ServiceCollection().AddSqliteIndex(new SqliteIndexOptions { Path = DbPath });
        await using var provider = services.BuildServiceProvider();
        var index = provider.GetRequiredService<IModuleIndex>();
        Assert.Same(provider.GetRequiredService<SqliteModuleIndex>(), index);
        Assert.Equal(DbPath, index.Location);
        Assert.Null(await index.ProbeAsync(Ct));
    }

    [Fact]
    public async Task Writers_in_one_process_take_turns_instead_of_meeting_the_write_lock()
    {
        var index = Open();
        // The first write holds SQLite's write lock (an open BEGIN IMMEDIATE) until it is let go.
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = index.RunWriteAsync(async connection =>
        {
            await using var transaction = connection.BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false);
            holding.SetResult();
            await letGo.Task;
            await transaction.CommitAsync();
            return 0;
        });
        await holding.Task;

        // A record from another request of the same process waits its turn: it has not reached SQLite (where it would
        // get SQLITE_BUSY and its thread would sleep) while the lock is held, and completes once it is let go.
        var record = index.RecordArtifactAsync(new ArtifactRecord("m.example/a", "v1.0.0", ArtifactKind.Info, null, 3, "https://up", T0), Ct);
        var reads = await index.GetArtifactAsync("m.example/a", "v1.0.0", ArtifactKind.Info, Ct);
        Assert.Null(reads);
        Assert.False(record.IsCompleted);
        letGo.SetResult();
        await first;
        await record;
        Assert.NotNull(await index.GetArtifactAsync("m.example/a", "v1.0.0", ArtifactKind.Info, Ct));
    }

    [Fact]
    public async Task Parallel_tree_head_advances_on_two_handles_let_exactly_one_win()
    {
        var first = Open();
        var second = Open();
        Assert.True(await first.TryAdvanceTreeHeadAsync("db", null, Note(1), Ct));
        var results = await WhileWritesAreHeldAsync(Enumerable.Range(2, 16).Select(n =>
            (Func<Task<bool>>)(() => (n % 2 == 0 ? first : second).TryAdvanceTreeHeadAsync("db", Note(1), Note(n), Ct))));
        Assert.Single(results, r => r);
        var winner = Enumerable.Range(2, 16).Where((_, i) => results[i]).Single();
        Assert.Equal(Note(winner), await second.GetTreeHeadAsync("db", Ct));
    }

    [Fact]
    public async Task Parallel_appends_on_two_handles_let_exactly_one_win()
    {
        var first = Open();
        var second = Open();
        await using var a = await first.OpenHostedLogAsync("race.example", Ct);
        await using var b = await second.OpenHostedLogAsync("race.example", Ct);
        var results = await WhileWritesAreHeldAsync(Enumerable.Range(0, 8).Select(i => (Func<Task<bool>>)(() =>
        {
            var entries = new[] { new HostedLogEntry("m.example/x", "v1.0.0", Encoding.UTF8.GetBytes($"writer {i}\n")) };
            return (i % 2 == 0 ? a : b).TryAppendAsync(0, entries, [new LogHash(new byte[32])], Encoding.UTF8.GetBytes($"head {i}\n"), Ct);
        })), HostedPath);
        Assert.Single(results, r => r);
        var winner = Enumerable.Range(0, 8).Where((_, i) => results[i]).Single();
        var state = await b.ReadStateAsync(Ct);
        Assert.Equal((1L, $"head {winner}\n"), (state!.Size, Encoding.UTF8.GetString(state.SignedHead)));
        Assert.Equal($"writer {winner}\n", Encoding.UTF8.GetString((await a.ReadRecordsAsync(0, 1, Ct))[0]));
    }

    [Fact]
    public async Task Hosted_logs_live_in_a_database_of_their_own_that_survives_the_index_being_recreated()
    {
        var index = Open();
        await using (var log = await index.OpenHostedLogAsync("hosted.example", Ct))
        {
            var entries = new[] { new HostedLogEntry("m.example/a", "v1.0.0", "a\n"u8.ToArray()) };
            Assert.True(await log.TryAppendAsync(0, entries, [new LogHash(new byte[32])], "head 1\n"u8.ToArray(), Ct));
        }

        Assert.True(File.Exists(HostedPath));
        index.Dispose();
        Corrupt();
        var reopened = Open();
        Assert.Equal(1, reopened.Recreations);
        await using var again = await reopened.OpenHostedLogAsync("hosted.example", Ct);
        Assert.Equal(1, (await again.ReadStateAsync(Ct))!.Size);

        // A corrupt hosted-log database is an error for the operator, never silently recreated empty.
        reopened.Dispose();
        SqliteConnection.ClearAllPools();
        File.WriteAllBytes(HostedPath, Encoding.ASCII.GetBytes(new string('x', 4096)));
        var third = Open();
        var refused = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await using var broken = await third.OpenHostedLogAsync("hosted.example", Ct);
            await broken.ReadStateAsync(Ct);
        });
        Assert.Contains("restore it from a backup", refused.Message, StringComparison.Ordinal);

        Assert.True(File.Exists(HostedPath));
        Assert.Empty(Directory.GetFiles(_dir, "hosted.db.corrupt-*"));
    }

    [Fact]
    public async Task Reading_what_a_hosted_log_lacks_names_what_is_missing()
    {
        var index = Open();
        await using var log = await index.OpenHostedLogAsync("hosted.example", Ct);
        var entries = new[] { new HostedLogEntry("m.example/a", "v1.0.0", "a\n"u8.ToArray()) };
        Assert.True(await log.TryAppendAsync(0, entries, [new LogHash(new byte[32])], "head 1\n"u8.ToArray(), Ct));

        var records = await Assert.ThrowsAsync<InvalidDataException>(() => log.ReadRecordsAsync(0, 2, Ct));
        Assert.Contains("record 1 is missing", records.Message, StringComparison.Ordinal);
        var hashes = await Assert.ThrowsAsync<InvalidDataException>(() => log.ReadHashesAsync([0, 5], Ct));
        Assert.Contains("stored hash 5 is missing", hashes.Message, StringComparison.Ordinal);
        Assert.Empty(await log.ReadRecordsAsync(1, 0, Ct));

        // Hashes that do not match the records' count are refused before anything is written.
        await Assert.ThrowsAsync<ArgumentException>(() => log.TryAppendAsync(1, entries, [], "head 2\n"u8.ToArray(), Ct));
        Assert.Equal(1, (await log.ReadStateAsync(Ct))!.Size);
    }

    [Fact]
    public async Task An_expired_negative_answer_is_deleted()
    {
        var index = Open();
        await index.PutNegativeAsync("k", new("NotFound", "no", T0), Ct);
        Assert.Null(await index.GetNegativeAsync("k", T0, Ct));
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM negatives";
        Assert.Equal(0L, command.ExecuteScalar());
    }

    /// <summary>Starts the operations on threads of their own while another connection holds the write lock, then lets
    /// them go at once: each has done whatever it does before it writes, so a compare-and-swap that read before taking
    /// the write lock would fail (SQLITE_BUSY_SNAPSHOT) or let two win.</summary>
    private async Task<bool[]> WhileWritesAreHeldAsync(IEnumerable<Func<Task<bool>>> operations, string? database = null)
    {
        Task<bool>[] tasks;
        using (var holder = new SqliteConnection($"Data Source={database ?? DbPath};Pooling=False"))
        {
            holder.Open();
            Execute(holder, "BEGIN IMMEDIATE");
            // A thread each (the pool adds threads slowly): every operation is under way before the lock goes.
            tasks = operations.Select(op => Task.Factory.StartNew(op, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();
            await Task.Delay(500);
            Assert.All(tasks, t => Assert.False(t.IsCompleted));
            Execute(holder, "COMMIT");
        }

        return await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task Secrets_and_sessions_leave_no_write_lock_behind_on_pooled_connections()
    {
        var index = Open();
        byte[] key = [.. Enumerable.Repeat((byte)7, 32)];
        Assert.Equal([1], await index.GetOrAddSecretAsync("k", [1], Ct));
        Assert.Equal([1], await index.GetOrAddSecretAsync("k", [2], Ct));
        await index.OpenSessionAsync(new ConsoleSessionRecord(key, "p", [1, 2], T0.AddHours(1)), T0, 10, Ct);
        Assert.NotNull(await index.GetSessionAsync(key, Ct));
        Assert.Equal("p", await index.EndSessionAsync(key, Ct));

        // Another writer gets the write lock at once: nothing above left a statement holding it.
        using var other = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        other.Open();
        using var begin = other.CreateCommand();
        begin.CommandText = "PRAGMA busy_timeout = 0; BEGIN IMMEDIATE; ROLLBACK;";
        begin.ExecuteNonQuery();
    }

    private SqliteModuleIndex Open(TimeProvider? time = null, ILogger<SqliteModuleIndex>? logger = null, string? path = null)
    {
        var index = new SqliteModuleIndex(new SqliteIndexOptions { Path = path ?? DbPath }, time, logger);
        _opened.Add(index);
        return index;
    }

    /// <summary>Closes every pooled connection and replaces the database with bytes that are no SQLite file.</summary>
    private void Corrupt()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(DbPath + "-wal");
        File.Delete(DbPath + "-shm");
        File.WriteAllBytes(DbPath, Encoding.ASCII.GetBytes(new string('x', 4096)));
    }

    private long UserVersion()
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static byte[] Note(long n) => Encoding.UTF8.GetBytes($"go.sum database tree\n{n}\n{Convert.ToBase64String(new byte[32])}\n\n— test sig\n");
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Warren.Storage.Postgres;

/// <summary>The versioned schema of the index, kept in code and applied in order. Every version applied is a row of
/// <c>schema_migrations(version, applied_at)</c>. Several nodes may migrate at once: each takes one transaction-level
/// advisory lock before looking at what is applied, so the versions are applied once, in order, by whichever comes
/// first, and the others find them done.</summary>
public static partial class PostgresMigrations
{
    /// <summary>The advisory lock of migrations, in the two-key space of advisory locks (the key locks use the one-key
    /// space, so the two never meet): 'W','R','N','M' and 1.</summary>
    private const int LockClass = 0x57524E4D;
    private const int LockObject = 1;

    /// <summary>The advisory lock under which feed timestamps are given (same class as migrations, object 2).</summary>
    internal const int FeedLockClass = LockClass;

    internal const int FeedLockObject = 2;

    /// <summary>The migrations in order; version n is at index n-1. {s} stands for the quoted schema.</summary>
    private static readonly string[] Steps =
    [
        // 1: the module index proper. artifacts.seq numbers rows in the order they were first stored (an update keeps
        // it). Numbers are drawn at insert time, so concurrent transactions may commit them out of order: a feed read
        // by seq must allow for a late, smaller number (read up to a settled point, or re-read a short window).
        """
        CREATE TABLE {s}.artifacts (
            module text NOT NULL,
            version text NOT NULL,
            kind text NOT NULL,
            hash text,
            size bigint NOT NULL,
            source text NOT NULL,
            stored_at timestamptz NOT NULL,
            seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            PRIMARY KEY (module, version, kind));
        CREATE TABLE {s}.answers (
            key text PRIMARY KEY,
            body bytea NOT NULL,
            fetched_at timestamptz NOT NULL);
        CREATE INDEX answers_fetched_at ON {s}.answers (fetched_at);
        CREATE TABLE {s}.negative_answers (
            key text PRIMARY KEY,
            kind text NOT NULL,
            reason text NOT NULL,
            expires timestamptz NOT NULL);
        CREATE TABLE {s}.tree_heads (
            name text PRIMARY KEY,
            note bytea NOT NULL,
            size bigint NOT NULL);
        """,

        // 2: hosted checksum database logs.
        """
        CREATE TABLE {s}.log_heads (
            log text PRIMARY KEY,
            size bigint NOT NULL,
            signed_head bytea);
        CREATE TABLE {s}.log_records (
            log text NOT NULL,
            id bigint NOT NULL,
            module text NOT NULL,
            version text NOT NULL,
            text bytea NOT NULL,
            PRIMARY KEY (log, id));
        CREATE INDEX log_records_module_version ON {s}.log_records (log, module, version);
        CREATE TABLE {s}.log_hashes (
            log text NOT NULL,
            storage_index bigint NOT NULL,
            hash bytea NOT NULL,
            PRIMARY KEY (log, storage_index));
        """,

        // 3: leases for cross-node single-flight.
        """
        CREATE SEQUENCE {s}.lease_tokens AS bigint NO CYCLE;
        CREATE TABLE {s}.leases (
            key text PRIMARY KEY,
            holder text NOT NULL,
            token bigint NOT NULL,
            expires_at timestamptz NOT NULL);
        """,

        // 4: the index feed, one row per version with a timestamp (microseconds since the epoch) no other version has,
        // given under an advisory lock held to commit, so timestamps also become visible in order; filled from the
        // artifacts recorded so far, in the order they were first stored. And named durable positions (the cursors of
        // followed feeds).
        """
        CREATE TABLE {s}.feed (module text NOT NULL, version text NOT NULL, ts bigint NOT NULL UNIQUE, PRIMARY KEY (module, version));
        INSERT INTO {s}.feed (module, version, ts)
            SELECT module, version, first_ms * 1000 + ROW_NUMBER() OVER (PARTITION BY first_ms ORDER BY module, version) - 1
            FROM (SELECT module, version, floor(extract(epoch FROM min(stored_at)) * 1000)::bigint AS first_ms
                  FROM {s}.artifacts GROUP BY module, version) v;
        CREATE TABLE {s}.cursors (name text PRIMARY KEY, cursor text NOT NULL);
        """,

        // 5: retention. Per version: the last access (the epoch when never asked for), the zip downloads and when it
        // was last evicted from the store (NULL while present).
        """
        CREATE TABLE {s}.usage (
            module text NOT NULL,
            version text NOT NULL,
            last_access timestamptz NOT NULL,
            downloads bigint NOT NULL,
            evicted_at timestamptz,
            PRIMARY KEY (module, version));
        """,

        // 6: who is affected. Zip downloads per (module, version, client, node, UTC day) with the last one; and the
        // webhook's outbox of (advisory, version) alerts, whose sent rows stay as the marker that they were sent.
        """
        CREATE TABLE {s}.downloads (
            module text NOT NULL,
            version text NOT NULL,
            client text NOT NULL,
            node text NOT NULL,
            day date NOT NULL,
            downloads bigint NOT NULL,
            last_download timestamptz NOT NULL,
            PRIMARY KEY (module, version, client, node, day));
        CREATE INDEX downloads_by_day ON {s}.downloads (day);
        CREATE TABLE {s}.alerts (
            advisory text NOT NULL,
            module text NOT NULL,
            version text NOT NULL,
            body text NOT NULL,
            created_at timestamptz NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            next_attempt timestamptz NOT NULL,
            sent_at timestamptz,
            last_error text,
            claimed_by text,
            claimed_until timestamptz,
            PRIMARY KEY (advisory, module, version));
        CREATE INDEX alerts_pending ON {s}.alerts (next_attempt) WHERE sent_at IS NULL;
        """,

        // 7: provenance. Which checksum database verified a version when it was stored, at which tree size (versions
        // stored before have none: their provenance says so).
        """
        CREATE TABLE {s}.verifications (
            module text NOT NULL,
            version text NOT NULL,
            database text NOT NULL,
            tree_size bigint NOT NULL,
            verified_at timestamptz NOT NULL,
            PRIMARY KEY (module, version));
        """,

        // 8: counts kept as the data changes, so that the console's counts and search never walk the feed or the
        // artifacts. One row per module path (its versions in the feed, the newest one's feed timestamp), kept by a
        // trigger on the feed; and named totals: the bytes of the files of versions present (not evicted, .ziphash files
        // aside) and the number of versions of the feed evicted, kept by triggers on the feed, the artifacts and usage.
        // Each of those triggers first locks the totals and only then reads (a new snapshot per statement), so that an
        // artifact recorded while its version is evicted on another node is counted exactly once. Also the nodes that
        // share the index, each process with its heartbeat.
        """
        CREATE TABLE {s}.modules (module text PRIMARY KEY, versions bigint NOT NULL, last_ts bigint NOT NULL);
        INSERT INTO {s}.modules (module, versions, last_ts) SELECT module, count(*), max(ts) FROM {s}.feed GROUP BY module;
        CREATE FUNCTION {s}.feed_modules() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            INSERT INTO {s}.modules (module, versions, last_ts) VALUES (NEW.module, 1, NEW.ts)
                ON CONFLICT (module) DO UPDATE SET versions = {s}.modules.versions + 1, last_ts = greatest({s}.modules.last_ts, EXCLUDED.last_ts);
            PERFORM 1 FROM {s}.totals WHERE name = 'bytes' FOR UPDATE;
            IF EXISTS (SELECT 1 FROM {s}.usage WHERE module = NEW.module AND version = NEW.version AND evicted_at IS NOT NULL) THEN
                UPDATE {s}.totals SET value = value + 1 WHERE name = 'evicted';
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER feed_modules AFTER INSERT ON {s}.feed FOR EACH ROW EXECUTE FUNCTION {s}.feed_modules();

        CREATE TABLE {s}.totals (name text PRIMARY KEY, value bigint NOT NULL);
        INSERT INTO {s}.totals (name, value) VALUES
            ('bytes', (SELECT coalesce(sum(a.size), 0)::bigint FROM {s}.artifacts a WHERE a.kind <> 'ziphash' AND NOT EXISTS
                (SELECT 1 FROM {s}.usage u WHERE u.module = a.module AND u.version = a.version AND u.evicted_at IS NOT NULL))),
            ('evicted', (SELECT count(*) FROM {s}.usage u WHERE evicted_at IS NOT NULL
                AND EXISTS (SELECT 1 FROM {s}.feed f WHERE f.module = u.module AND f.version = u.version)));
        CREATE FUNCTION {s}.version_bytes(m text, v text) RETURNS bigint LANGUAGE sql VOLATILE AS $f$
            SELECT coalesce(sum(size), 0)::bigint FROM {s}.artifacts WHERE module = m AND version = v AND kind <> 'ziphash'
        $f$;
        CREATE FUNCTION {s}.artifacts_bytes() RETURNS trigger LANGUAGE plpgsql AS $f$
        DECLARE
            delta bigint := 0;
            m text;
            v text;
        BEGIN
            PERFORM 1 FROM {s}.totals WHERE name = 'bytes' FOR UPDATE;
            IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.kind <> 'ziphash' THEN delta := delta + NEW.size; m := NEW.module; v := NEW.version; END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.kind <> 'ziphash' THEN delta := delta - OLD.size; m := OLD.module; v := OLD.version; END IF;
            IF delta <> 0 AND NOT EXISTS (SELECT 1 FROM {s}.usage WHERE module = m AND version = v AND evicted_at IS NOT NULL) THEN
                UPDATE {s}.totals SET value = value + delta WHERE name = 'bytes';
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER artifacts_bytes AFTER INSERT OR UPDATE OF size OR DELETE ON {s}.artifacts FOR EACH ROW EXECUTE FUNCTION {s}.artifacts_bytes();
        CREATE FUNCTION {s}.usage_evicted() RETURNS trigger LANGUAGE plpgsql AS $f$
        DECLARE
            was boolean := TG_OP <> 'INSERT' AND OLD.evicted_at IS NOT NULL;
            now_evicted boolean := TG_OP <> 'DELETE' AND NEW.evicted_at IS NOT NULL;
            m text;
            v text;
        BEGIN
            IF was = now_evicted THEN RETURN NULL; END IF;
            IF TG_OP = 'DELETE' THEN m := OLD.module; v := OLD.version; ELSE m := NEW.module; v := NEW.version; END IF;
            PERFORM 1 FROM {s}.totals WHERE name = 'bytes' FOR UPDATE;
            UPDATE {s}.totals SET value = value + (CASE WHEN now_evicted THEN -1 ELSE 1 END) * {s}.version_bytes(m, v) WHERE name = 'bytes';
            IF EXISTS (SELECT 1 FROM {s}.feed WHERE module = m AND version = v) THEN
                UPDATE {s}.totals SET value = value + (CASE WHEN now_evicted THEN 1 ELSE -1 END) WHERE name = 'evicted';
            END IF;
            RETURN NULL;
        END $f$;
        CREATE TRIGGER usage_evicted AFTER INSERT OR UPDATE OF evicted_at OR DELETE ON {s}.usage FOR EACH ROW EXECUTE FUNCTION {s}.usage_evicted();

        CREATE TABLE {s}.nodes (
            node text NOT NULL,
            instance text NOT NULL,
            version text NOT NULL,
            started_at timestamptz NOT NULL,
            last_seen timestamptz NOT NULL,
            PRIMARY KEY (node, instance));
        """,

        // 9: the web console's sessions, so that every node honours a sign-in and a sign-out wherever it happened, and named
        // secrets every node agrees on (the key of the console's anti-forgery tokens).
        """
        CREATE TABLE {s}.sessions (
            key bytea PRIMARY KEY,
            principal text NOT NULL,
            sealed bytea NOT NULL,
            expires timestamptz NOT NULL);
        CREATE INDEX sessions_expires ON {s}.sessions (expires);
        CREATE TABLE {s}.secrets (
            name text PRIMARY KEY,
            value bytea NOT NULL);
        """,
    ];

    /// <summary>The version the schema is at once every migration is applied.</summary>
    public static int LatestVersion => Steps.Length;

    /// <summary>Creates the schema if needed and applies the missing versions in order, in one transaction under the
    /// migration lock. Returns how many versions this call applied (0 when another node had done it).</summary>
    public static Task<int> MigrateAsync(NpgsqlDataSource dataSource, string schema, ILogger? logger, CancellationToken cancellationToken) =>
        MigrateAsync(dataSource, schema, logger, Steps.Length, cancellationToken);

    /// <summary>As <see cref="MigrateAsync(NpgsqlDataSource, string, ILogger?, CancellationToken)"/>, up to version target
    /// only (tests of a migration over the rows of the version before).</summary>
    internal static async Task<int> MigrateAsync(NpgsqlDataSource dataSource, string schema, ILogger? logger, int target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(target, Steps.Length);
        logger ??= NullLogger.Instance;
        var s = Quote(schema);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({LockClass}, {LockObject})", 0, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"""
                    CREATE SCHEMA IF NOT EXISTS {s};
                    CREATE TABLE IF NOT EXISTS {s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                    """, null, cancellationToken).ConfigureAwait(false);

                int current;
                using (var command = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {s}.schema_migrations", connection))
                {
                    current = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
                }

                if (current > Steps.Length)
                {
                    throw new InvalidOperationException($"postgres schema {schema} is at version {current}, newer than this Warren knows ({Steps.Length}): upgrade Warren");
                }

                for (var version = current + 1; version <= target; version++)
                {
                    await ExecuteAsync(connection, Steps[version - 1].Replace("{s}", s, StringComparison.Ordinal), null, cancellationToken).ConfigureAwait(false);
                    using var record = new NpgsqlCommand($"INSERT INTO {s}.schema_migrations (version) VALUES ($1)", connection);
                    record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    Log.Applied(logger, schema, version);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                if (current == Steps.Length)
                {
                    Log.UpToDate(logger, schema, current);
                }

                return Steps.Length - current;
            }
        }
    }

    /// <summary>The schema name as a quoted identifier (the options validated it).</summary>
    internal static string Quote(string schema)
    {
        ArgumentException.ThrowIfNullOrEmpty(schema);
        return "\"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, int? timeoutSeconds, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(sql, connection);
        if (timeoutSeconds is { } t)
        {
            command.CommandTimeout = t;
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7300, Level = LogLevel.Information, Message = "Applied index schema migration {Version} to postgres schema {Schema}")]
        public static partial void Applied(ILogger logger, string schema, int version);

        [LoggerMessage(EventId = 7301, Level = LogLevel.Debug, Message = "Postgres schema {Schema} is at version {Version}, the latest")]
        public static partial void UpToDate(ILogger logger, string schema, int version);
    }
}

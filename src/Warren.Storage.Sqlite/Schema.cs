namespace Warren.Storage.Sqlite;

/// <summary>The index's schema as numbered migrations; the database's PRAGMA user_version is the last one applied.</summary>
internal static class Schema
{
    /// <summary>Migration i takes the schema from version i to version i+1.</summary>
    public static readonly IReadOnlyList<string> Migrations =
    [
        // Version 1: the tables of the server's first index (index.db files that exist hold these, at user_version 0).
        """
        CREATE TABLE IF NOT EXISTS artifacts (
            module TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL,
            h1 TEXT, size INTEGER NOT NULL, source TEXT NOT NULL, fetched_at INTEGER NOT NULL,
            PRIMARY KEY (module, version, kind));
        CREATE TABLE IF NOT EXISTS answers (
            key TEXT NOT NULL PRIMARY KEY, body BLOB NOT NULL, fetched_at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS answers_fetched_at ON answers (fetched_at);
        """,

        // Version 2: negative answers, checksum database tree heads and hosted checksum database logs.
        """
        CREATE TABLE negatives (
            key TEXT NOT NULL PRIMARY KEY, kind TEXT NOT NULL, reason TEXT NOT NULL, expires INTEGER NOT NULL);
        CREATE TABLE tree_heads (
            name TEXT NOT NULL PRIMARY KEY, note BLOB NOT NULL, size INTEGER NOT NULL);
        CREATE TABLE hosted_log_records (
            log TEXT NOT NULL, id INTEGER NOT NULL, record BLOB NOT NULL, module TEXT NOT NULL, version TEXT NOT NULL,
            PRIMARY KEY (log, id)) WITHOUT ROWID;
        CREATE INDEX hosted_log_records_by_version ON hosted_log_records (log, module, version);
        CREATE TABLE hosted_log_hashes (
            log TEXT NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
            PRIMARY KEY (log, idx)) WITHOUT ROWID;
        CREATE TABLE hosted_log_heads (
            log TEXT NOT NULL PRIMARY KEY, size INTEGER NOT NULL, head BLOB NOT NULL);
        """,

        // Version 3: the index feed, one row per version with a timestamp (microseconds) no other version has, filled
        // from the artifacts recorded so far in the order they were first stored; and named durable positions (the
        // cursors of followed feeds).
        """
        CREATE TABLE feed (module TEXT NOT NULL, version TEXT NOT NULL, ts INTEGER NOT NULL UNIQUE, PRIMARY KEY (module, version)) WITHOUT ROWID;
        INSERT INTO feed (module, version, ts)
            SELECT module, version, first * 1000 + ROW_NUMBER() OVER (PARTITION BY first ORDER BY module, version) - 1
            FROM (SELECT module, version, min(fetched_at) AS first FROM artifacts GROUP BY module, version);
        CREATE TABLE cursors (name TEXT NOT NULL PRIMARY KEY, cursor TEXT NOT NULL);
        """,

        // Version 4: retention. Per version: the last access (milliseconds, 0 when never asked for), the zip downloads
        // and when it was last evicted from the store (NULL while present).
        """
        CREATE TABLE usage (
            module TEXT NOT NULL, version TEXT NOT NULL, last_access INTEGER NOT NULL, downloads INTEGER NOT NULL, evicted_at INTEGER,
            PRIMARY KEY (module, version)) WITHOUT ROWID;
        """,

        // Version 5: who is affected. Zip downloads per (module, version, client, node, UTC day: the day number of
        // DateOnly) with the last one (milliseconds); and the webhook's outbox of (advisory, version) alerts, whose sent
        // rows stay as the marker that they were sent.
        """
        CREATE TABLE downloads (
            module TEXT NOT NULL, version TEXT NOT NULL, client TEXT NOT NULL, node TEXT NOT NULL, day INTEGER NOT NULL,
            downloads INTEGER NOT NULL, last_download INTEGER NOT NULL,
            PRIMARY KEY (module, version, client, node, day)) WITHOUT ROWID;
        CREATE INDEX downloads_by_day ON downloads (day);
        CREATE TABLE alerts (
            advisory TEXT NOT NULL, module TEXT NOT NULL, version TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL, sent_at INTEGER, last_error TEXT,
            claimed_by TEXT, claimed_until INTEGER,
            PRIMARY KEY (advisory, module, version)) WITHOUT ROWID;
        CREATE INDEX alerts_pending ON alerts (next_attempt) WHERE sent_at IS NULL;
        """,

        // Version 6: provenance. Which checksum database verified a version when it was stored, at which tree size
        // (versions stored before have none: their provenance says so).
        """
        CREATE TABLE verifications (
            module TEXT NOT NULL, version TEXT NOT NULL, database TEXT NOT NULL, tree_size INTEGER NOT NULL, verified_at INTEGER NOT NULL,
            PRIMARY KEY (module, version)) WITHOUT ROWID;
        """,

        // Version 7: counts kept as the data changes, so that the console's counts and search never walk the feed or
        // the artifacts. One row per module path (its versions in the feed and the newest one's feed timestamp), kept by
        // a trigger on the feed; and named totals: the bytes of the files of versions present (not evicted, .ziphash
        // files aside) and the number of versions of the feed evicted, kept by triggers on the feed, the artifacts and
        // usage. Also the nodes that share this index, each process with its heartbeat.
        """
        CREATE TABLE modules (module TEXT NOT NULL PRIMARY KEY, versions INTEGER NOT NULL, last_ts INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO modules (module, versions, last_ts) SELECT module, count(*), max(ts) FROM feed GROUP BY module;
        CREATE TRIGGER feed_modules AFTER INSERT ON feed BEGIN
            INSERT INTO modules (module, versions, last_ts) VALUES (NEW.module, 1, NEW.ts)
                ON CONFLICT (module) DO UPDATE SET versions = versions + 1, last_ts = max(last_ts, excluded.last_ts);
            UPDATE totals SET value = value + 1 WHERE name = 'evicted'
                AND EXISTS (SELECT 1 FROM usage WHERE module = NEW.module AND version = NEW.version AND evicted_at IS NOT NULL);
        END;

        CREATE TABLE totals (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO totals (name, value) VALUES
            ('bytes', (SELECT coalesce(sum(a.size), 0) FROM artifacts a WHERE a.kind <> 'ziphash' AND NOT EXISTS
                (SELECT 1 FROM usage u WHERE u.module = a.module AND u.version = a.version AND u.evicted_at IS NOT NULL))),
            ('evicted', (SELECT count(*) FROM usage u WHERE evicted_at IS NOT NULL
                AND EXISTS (SELECT 1 FROM feed f WHERE f.module = u.module AND f.version = u.version)));
        CREATE TRIGGER artifacts_bytes_insert AFTER INSERT ON artifacts
            WHEN NEW.kind <> 'ziphash' AND NOT EXISTS (SELECT 1 FROM usage WHERE module = NEW.module AND version = NEW.version AND evicted_at IS NOT NULL)
        BEGIN
            UPDATE totals SET value = value + NEW.size WHERE name = 'bytes';
        END;
        CREATE TRIGGER artifacts_bytes_update AFTER UPDATE OF size ON artifacts
            WHEN NEW.kind <> 'ziphash' AND NEW.size <> OLD.size
                AND NOT EXISTS (SELECT 1 FROM usage WHERE module = NEW.module AND version = NEW.version AND evicted_at IS NOT NULL)
        BEGIN
            UPDATE totals SET value = value + NEW.size - OLD.size WHERE name = 'bytes';
        END;
        CREATE TRIGGER artifacts_bytes_delete AFTER DELETE ON artifacts
            WHEN OLD.kind <> 'ziphash' AND NOT EXISTS (SELECT 1 FROM usage WHERE module = OLD.module AND version = OLD.version AND evicted_at IS NOT NULL)
        BEGIN
            UPDATE totals SET value = value - OLD.size WHERE name = 'bytes';
        END;
        CREATE TRIGGER usage_evicted_insert AFTER INSERT ON usage WHEN NEW.evicted_at IS NOT NULL BEGIN
            UPDATE totals SET value = value - (SELECT coalesce(sum(size), 0) FROM artifacts WHERE module = NEW.module AND version = NEW.version AND kind <> 'ziphash')
                WHERE name = 'bytes';
            UPDATE totals SET value = value + 1 WHERE name = 'evicted' AND EXISTS (SELECT 1 FROM feed WHERE module = NEW.module AND version = NEW.version);
        END;
        CREATE TRIGGER usage_evicted_update AFTER UPDATE OF evicted_at ON usage WHEN (OLD.evicted_at IS NULL) <> (NEW.evicted_at IS NULL) BEGIN
            UPDATE totals SET value = value + (CASE WHEN NEW.evicted_at IS NULL THEN 1 ELSE -1 END)
                * (SELECT coalesce(sum(size), 0) FROM artifacts WHERE module = NEW.module AND version = NEW.version AND kind <> 'ziphash')
                WHERE name = 'bytes';
            UPDATE totals SET value = value + (CASE WHEN NEW.evicted_at IS NULL THEN -1 ELSE 1 END) WHERE name = 'evicted'
                AND EXISTS (SELECT 1 FROM feed WHERE module = NEW.module AND version = NEW.version);
        END;
        CREATE TRIGGER usage_evicted_delete AFTER DELETE ON usage WHEN OLD.evicted_at IS NOT NULL BEGIN
            UPDATE totals SET value = value + (SELECT coalesce(sum(size), 0) FROM artifacts WHERE module = OLD.module AND version = OLD.version AND kind <> 'ziphash')
                WHERE name = 'bytes';
            UPDATE totals SET value = value - 1 WHERE name = 'evicted' AND EXISTS (SELECT 1 FROM feed WHERE module = OLD.module AND version = OLD.version);
        END;

        CREATE TABLE nodes (
            node TEXT NOT NULL, instance TEXT NOT NULL, version TEXT NOT NULL, started_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
            PRIMARY KEY (node, instance)) WITHOUT ROWID;
        """,

        // Version 8: the web console's sessions, so that every process sharing the index honours a sign-in and a sign-out,
        // and named secrets every process agrees on (the key of the console's anti-forgery tokens).
        """
        CREATE TABLE sessions (
            key BLOB NOT NULL PRIMARY KEY, principal TEXT NOT NULL, sealed BLOB NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX sessions_expires ON sessions (expires);
        CREATE TABLE secrets (name TEXT NOT NULL PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        """,
    ];

    /// <summary>The version this code reads and writes.</summary>
    public static long Version => Migrations.Count;
}

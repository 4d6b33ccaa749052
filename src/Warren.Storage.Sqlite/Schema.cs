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
    ];

    /// <summary>The version this code reads and writes.</summary>
    public static long Version => Migrations.Count;
}

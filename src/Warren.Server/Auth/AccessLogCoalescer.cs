namespace Warren.Server.Auth;

/// <summary>Keeps the access log readable and cheap under floods: the first event of each (principal, module@version,
/// artifact, status) in a window is logged at once, with the number of identical events the previous line stood for; the
/// identical events inside the window are only counted. So every distinct access is logged at least once a window (who
/// read which version, who was refused), while a client hammering one file costs a counter increment, not a log line.
/// Bounded: at most <see cref="MaxKeys"/> keys; when full, the table is emptied (the next events are logged again).</summary>
public sealed class AccessLogCoalescer(TimeProvider time, TimeSpan window)
{
    public const int MaxKeys = 10_000;

    private readonly Dictionary<Key, Entry> _entries = [];

    /// <summary>True when this event is to be logged now; repeats is then how many identical events since the last line
    /// went unlogged.</summary>
    public bool ShouldLog(string principal, string? module, string? version, string artifact, int status, out long repeats)
    {
        repeats = 0;
        if (window <= TimeSpan.Zero)
        {
            return true;
        }

        var key = new Key(principal, module, version, artifact, status);
        var now = time.GetUtcNow();
        lock (_entries)
        {
            if (_entries.TryGetValue(key, out var entry) && now - entry.Logged < window)
            {
                entry.Suppressed++;
                return false;
            }

            if (entry is not null)
            {
                repeats = entry.Suppressed;
                entry.Suppressed = 0;
                entry.Logged = now;
                return true;
            }

            if (_entries.Count >= MaxKeys)
            {
                _entries.Clear();
            }

            _entries[key] = new Entry { Logged = now };
            return true;
        }
    }

    private readonly record struct Key(string Principal, string? Module, string? Version, string Artifact, int Status);

    private sealed class Entry
    {
        public DateTimeOffset Logged;
        public long Suppressed;
    }
}

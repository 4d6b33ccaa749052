namespace Warren.Storage;

/// <summary>What the index knows of one stored module file: its hash (h1 of a zip, or of a .mod), size, where it came
/// from and when it was first stored.</summary>
public sealed record ArtifactRecord(string ModulePath, string Version, ArtifactKind Kind, string? Hash, long Size, string Source, DateTimeOffset StoredAt);

/// <summary>One version of the index feed: when it was first stored, a timestamp no other version has.</summary>
public sealed record FeedEntry(string ModulePath, string Version, DateTimeOffset Timestamp);

/// <summary>How a version is used, for retention: when it was last asked for (any of its files), how many times its
/// zip was downloaded, and when it was last evicted from the store (null while it is present).</summary>
public sealed record VersionUsage(string ModulePath, string Version, DateTimeOffset LastAccess, long Downloads, DateTimeOffset? EvictedAt = null);

/// <summary>A cached mutable answer (a list, @latest, a version query, a checksum database latest) and when it was fetched.</summary>
public sealed record CachedAnswer(byte[] Body, DateTimeOffset FetchedAt);

/// <summary>A remembered "no" (not found, gone, refused) with its one-line reason, until it expires.</summary>
/// <param name="Kind">The outcome's kind, as the serving layer names it.</param>
public sealed record NegativeAnswer(string Kind, string Reason, DateTimeOffset Expires);

/// <summary>Everything about modules that is not their immutable content: the version index, list/latest answers,
/// negative answers, hashes, the verified checksum database tree heads (compare-and-swap) and, through
/// <see cref="IHostedLogStorage"/>, the hosted checksum database. Shared by every node of a cluster.</summary>
public interface IModuleIndex
{
    /// <summary>Where the index is, for logs (never with credentials).</summary>
    string Location { get; }

    /// <summary>Records a stored file. A record that exists keeps its first StoredAt; hash, size and source are updated.</summary>
    Task RecordArtifactAsync(ArtifactRecord record, CancellationToken cancellationToken);

    /// <summary>Records many stored files, in list order, each as <see cref="RecordArtifactAsync"/> does (an import's
    /// thousand records in one write where the index can batch them).</summary>
    async Task RecordArtifactsAsync(IReadOnlyList<ArtifactRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var record in records)
        {
            await RecordArtifactAsync(record, cancellationToken).ConfigureAwait(false);
        }
    }

    Task<ArtifactRecord?> GetArtifactAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken);

    /// <summary>The canonical versions of a module the index has any record of, sorted by semantic version.</summary>
    Task<IReadOnlyList<string>> ListVersionsAsync(string modulePath, CancellationToken cancellationToken);

    /// <summary>The index feed (index.golang.org's): versions in the order they were first recorded, from since
    /// (inclusive), at most limit. Every version has a timestamp of its own (microseconds), strictly increasing in that
    /// order, so that paging by the last timestamp never skips or repeats one. A version's first record sets it: the
    /// record's StoredAt, or just after the newest timestamp when that is not later.</summary>
    Task<IReadOnlyList<FeedEntry>> ReadFeedAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken);

    /// <summary>A durable named position (a followed feed's cursor), or null when none was saved.</summary>
    Task<string?> GetCursorAsync(string name, CancellationToken cancellationToken);

    /// <summary>Saves a named position, replacing the one before.</summary>
    Task SetCursorAsync(string name, string cursor, CancellationToken cancellationToken);

    /// <summary>Adds a batch of usage: each version's downloads are added to its count, its last access becomes the later
    /// of the two. Written in batches by the server (never once per request).</summary>
    Task RecordUsageAsync(IReadOnlyCollection<VersionUsage> batch, CancellationToken cancellationToken);

    /// <summary>The usage of every version the index has usage or an eviction of.</summary>
    Task<IReadOnlyList<VersionUsage>> ReadUsageAsync(CancellationToken cancellationToken);

    /// <summary>Records that versions' files were removed from the store (their artifact records, hashes and feed entries
    /// stay). The next <see cref="RecordArtifactAsync"/> of a version makes it present again.</summary>
    Task RecordEvictionsAsync(IReadOnlyCollection<(string ModulePath, string Version)> versions, DateTimeOffset evictedAt, CancellationToken cancellationToken);

    Task<CachedAnswer?> GetAnswerAsync(string key, CancellationToken cancellationToken);

    Task PutAnswerAsync(string key, byte[] body, DateTimeOffset fetchedAt, CancellationToken cancellationToken);

    /// <summary>Deletes answers fetched before olderThan, then the oldest beyond maxCount; returns how many went.</summary>
    Task<int> PruneAnswersAsync(DateTimeOffset olderThan, int maxCount, CancellationToken cancellationToken);

    Task<long> CountAnswersAsync(CancellationToken cancellationToken);

    /// <summary>The negative answer under key while it has not expired at now.</summary>
    Task<NegativeAnswer?> GetNegativeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);

    Task PutNegativeAsync(string key, NegativeAnswer answer, CancellationToken cancellationToken);

    Task RemoveNegativeAsync(string key, CancellationToken cancellationToken);

    /// <summary>The latest verified signed tree head of a checksum database, or null.</summary>
    Task<byte[]?> GetTreeHeadAsync(string database, CancellationToken cancellationToken);

    /// <summary>Compare-and-swap: makes next the tree head only when the current one is byte-for-byte expected (null:
    /// none yet) and next is not smaller than it. False, and nothing changed, otherwise: the caller re-reads, proves
    /// consistency again and retries, so that no node can move a head backwards.</summary>
    Task<bool> TryAdvanceTreeHeadAsync(string database, byte[]? expected, byte[] next, CancellationToken cancellationToken);

    /// <summary>The storage of a hosted checksum database log, created empty when new.</summary>
    Task<IHostedLogStorage> OpenHostedLogAsync(string logName, CancellationToken cancellationToken);

    /// <summary>Adds a batch of download counts: each (module, version, client, node, day) row gains the batch's downloads,
    /// its last download becomes the later of the two. Written in batches (never once per request).</summary>
    Task RecordDownloadsAsync(IReadOnlyCollection<DownloadCount> batch, CancellationToken cancellationToken);

    /// <summary>The download counts of days from since (inclusive), of one module path when modulePath is given.</summary>
    Task<IReadOnlyList<DownloadCount>> ReadDownloadsAsync(DateOnly since, string? modulePath, CancellationToken cancellationToken);

    /// <summary>Deletes the download counts of days before the given day; returns how many rows went.</summary>
    Task<int> PruneDownloadsAsync(DateOnly before, CancellationToken cancellationToken);

    /// <summary>Adds alerts to the outbox unless one with the same (advisory, module, version) exists (pending or sent):
    /// returns how many were new.</summary>
    Task<int> EnqueueAlertsAsync(IReadOnlyCollection<AlertEntry> alerts, CancellationToken cancellationToken);

    /// <summary>Claims up to max pending alerts due at now and not claimed by anyone else (or whose claim expired), for
    /// claimer, until now + lease: no other claimer gets them meanwhile.</summary>
    Task<IReadOnlyList<AlertEntry>> ClaimAlertsAsync(string claimer, DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken);

    /// <summary>Marks alerts sent at sentAt (and releases their claim).</summary>
    Task CompleteAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, DateTimeOffset sentAt, CancellationToken cancellationToken);

    /// <summary>Records a failed delivery: one attempt more, not before nextAttempt, with the one-line error; releases the claim.</summary>
    Task DeferAlertsAsync(IReadOnlyCollection<(string AdvisoryId, string ModulePath, string Version)> alerts, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken);

    /// <summary>The earliest next attempt of the pending alerts (claimed or not), or null when none is pending.</summary>
    Task<DateTimeOffset?> NextAlertAttemptAsync(CancellationToken cancellationToken);

    /// <summary>Every alert of the outbox, pending and sent.</summary>
    Task<IReadOnlyList<AlertEntry>> ReadAlertsAsync(CancellationToken cancellationToken);

    /// <summary>Counts of what the index holds (modules, versions present, their bytes, versions evicted).</summary>
    Task<IndexStats> GetStatsAsync(CancellationToken cancellationToken);

    /// <summary>Module paths containing query (case-insensitive; a prefix is a substring too), in path order, after the
    /// path after (exclusive, for paging; null from the start), at most limit (1 to <see cref="ModuleSearch.MaxLimit"/>).
    /// Served by the index, never a walk of the store.</summary>
    Task<IReadOnlyList<ModuleMatch>> SearchModulesAsync(string query, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Records which checksum database verified a version at which tree size (replacing an earlier record).</summary>
    Task RecordVerificationAsync(VersionVerification verification, CancellationToken cancellationToken);

    /// <summary>The verification records of a module's versions.</summary>
    Task<IReadOnlyList<VersionVerification>> ReadVerificationsAsync(string modulePath, CancellationToken cancellationToken);

    /// <summary>Records a node's heartbeat (replacing its instance's last one) and forgets the instances not seen since
    /// forgetBefore.</summary>
    Task RecordNodeAsync(NodeHeartbeat heartbeat, DateTimeOffset forgetBefore, CancellationToken cancellationToken);

    /// <summary>The node instances that have a heartbeat in the index, by node name.</summary>
    Task<IReadOnlyList<NodeHeartbeat>> ReadNodesAsync(CancellationToken cancellationToken);

    /// <summary>Stores a console session. First forgets the sessions ended by now; then, while maxSessions live sessions
    /// remain, forgets those that end soonest. Returns how many live sessions were forgotten to make room.</summary>
    Task<int> OpenSessionAsync(ConsoleSessionRecord session, DateTimeOffset now, int maxSessions, CancellationToken cancellationToken);

    /// <summary>The session stored under this key, or null (never stored, ended, or forgotten).</summary>
    Task<ConsoleSessionRecord?> GetSessionAsync(byte[] key, CancellationToken cancellationToken);

    /// <summary>Forgets a session: every node stops honouring it. Returns its principal, or null when there was none.</summary>
    Task<string?> EndSessionAsync(byte[] key, CancellationToken cancellationToken);

    /// <summary>The secret stored under this name; the first call for a name stores candidate and returns it, and every
    /// later call (on any node sharing the index) returns that first value.</summary>
    Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken);

    /// <summary>Readiness: null when the index answers, else a one-line reason.</summary>
    Task<string?> ProbeAsync(CancellationToken cancellationToken);
}

namespace Warren.Storage;

/// <summary>How many times one client downloaded one version's zip from one node on one UTC day, and when last.</summary>
/// <param name="Client">The token's name, or "anonymous".</param>
/// <param name="Node">The node that served it.</param>
public sealed record DownloadCount(string ModulePath, string Version, string Client, string Node, DateOnly Day, long Downloads, DateTimeOffset LastDownload);

/// <summary>One (advisory, version) alert of the webhook outbox: enqueued once, sent until a delivery succeeds, then
/// kept as the marker that it was sent.</summary>
/// <param name="Advisory">What the event says of the advisory (JSON, as the sender built it when it was enqueued).</param>
/// <param name="Attempts">Failed deliveries so far.</param>
/// <param name="NextAttempt">Not sent before this time.</param>
/// <param name="SentAt">When a delivery succeeded; null while pending.</param>
public sealed record AlertEntry(string AdvisoryId, string ModulePath, string Version, string Advisory, DateTimeOffset CreatedAt, int Attempts,
    DateTimeOffset NextAttempt, DateTimeOffset? SentAt, string? LastError = null);

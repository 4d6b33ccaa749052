namespace Warren.Server.Upstream;

public enum FetchStatus
{
    Ok,

    /// <summary>404 from the source: the go command's "not found", which may fall through.</summary>
    NotFound,

    /// <summary>410 from the source: "not found" for the go command too, but said as gone.</summary>
    Gone,

    /// <summary>Anything else: refused connection, 5xx, truncated body, too large. Never cached, never a 404.</summary>
    Failed,

    /// <summary>The source did not answer in time (or answered 504). Never cached.</summary>
    TimedOut,
}

/// <summary>What one source (or the whole chain) said about one request. Statuses a source sends are turned into a
/// <see cref="FetchStatus"/> where they are received.</summary>
/// <param name="Reason">One line, safe to show to a client.</param>
/// <param name="Source">The source that gave this answer (a redacted URL or "direct").</param>
public sealed record FetchOutcome(FetchStatus Status, string Reason, string Source, long Bytes = 0)
{
    public bool IsOk => Status == FetchStatus.Ok;

    /// <summary>True for a failure that says the source is down (no connection, a 5xx, a timeout, a body cut short), as
    /// opposed to one about this request only (too large, refused by the egress policy): what counts towards opening
    /// the source's <see cref="CircuitBreaker"/>.</summary>
    public bool SourceDown { get; init; }

    /// <summary>Not found or gone: the answers that fall through to the next source.</summary>
    public bool IsNotFound => Status is FetchStatus.NotFound or FetchStatus.Gone;

    public static FetchOutcome Ok(string source, long bytes) => new(FetchStatus.Ok, "", source, bytes);

    public static FetchOutcome NotFound(string source, string reason, bool gone = false) =>
        new(gone ? FetchStatus.Gone : FetchStatus.NotFound, Warren.Fetch.Direct.Git.SecretRedactor.RedactText(reason), source);

    public static FetchOutcome Failed(string source, string reason, bool timedOut = false) =>
        new(timedOut ? FetchStatus.TimedOut : FetchStatus.Failed, Warren.Fetch.Direct.Git.SecretRedactor.RedactText(reason), source);
}

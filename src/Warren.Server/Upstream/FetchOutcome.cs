namespace Warren.Server.Upstream;

public enum FetchStatus
{
    Ok,

    /// <summary>404 or 410 from the source: the go command's "not found", which may fall through.</summary>
    NotFound,

    /// <summary>Anything else: refused connection, 5xx, truncated body, timeout. Never cached, never a 404.</summary>
    Failed,
}

/// <summary>What one source (or the whole chain) said about one request.</summary>
/// <param name="StatusCode">For Failed: 502 or 504 (or another status to relay); for NotFound: 404 or 410.</param>
/// <param name="Reason">One line, safe to show to a client.</param>
/// <param name="Source">The source that gave this answer (a redacted URL or "direct").</param>
public sealed record FetchOutcome(FetchStatus Status, int StatusCode, string Reason, string Source, long Bytes = 0)
{
    public bool IsOk => Status == FetchStatus.Ok;

    public static FetchOutcome Ok(string source, long bytes) => new(FetchStatus.Ok, 200, "", source, bytes);

    public static FetchOutcome NotFound(string source, string reason, int status = 404) =>
        new(FetchStatus.NotFound, status, Warren.Fetch.Direct.Git.SecretRedactor.RedactText(reason), source);

    public static FetchOutcome Failed(string source, string reason, int status = 502) =>
        new(FetchStatus.Failed, status, Warren.Fetch.Direct.Git.SecretRedactor.RedactText(reason), source);
}

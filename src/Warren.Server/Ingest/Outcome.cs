using Warren.Server.SumDb;
using Warren.Server.Upstream;

namespace Warren.Server.Ingest;

/// <summary>Why a request has no answer. Only the endpoints turn a kind into an HTTP status.</summary>
public enum OutcomeKind
{
    /// <summary>No such module, version or endpoint (the go command may try the next proxy).</summary>
    NotFound,

    /// <summary>Upstream says it existed and is gone for good (the go command treats it like not found).</summary>
    Gone,

    /// <summary>The request itself is malformed.</summary>
    BadRequest,

    /// <summary>The request is well-formed but not allowed (a private path would leak to a public service).</summary>
    Forbidden,

    /// <summary>Upstream could not be asked or answered badly (refused connection, 5xx, truncated body).</summary>
    UpstreamFailed,

    /// <summary>Upstream, or a checksum database, did not answer in time.</summary>
    Timeout,

    /// <summary>An answer was obtained but Warren will not serve it; <see cref="ReasonKind"/> says why.</summary>
    Refused,
}

/// <summary>Why Warren refused an answer it obtained.</summary>
public enum ReasonKind
{
    None,

    /// <summary>What a source sent is not a valid .info, .mod or zip, or does not go with the rest of the version.</summary>
    InvalidArtifact,

    /// <summary>A checksum database did not vouch for the hashes (mismatch, not found, unverifiable, forked).</summary>
    ChecksumRejected,

    /// <summary>The checksum database's own answer (a signed head, a lookup) failed verification.</summary>
    SumDbUnverified,

    /// <summary>The hosted checksum database holds other hashes, or could not log the version.</summary>
    NotLogged,

    /// <summary>The store no longer holds, or no longer matches, what was committed.</summary>
    StoreInconsistent,
}

/// <summary>An expected way for a request to end without an answer: the kind and a one-line message for the client.</summary>
public sealed record Outcome(OutcomeKind Kind, string Message, ReasonKind Reason = ReasonKind.None) : ServeResult
{
    /// <summary>Not found or gone: the answers the go command may fall through on, and that are remembered briefly.</summary>
    public bool IsNotFound => Kind is OutcomeKind.NotFound or OutcomeKind.Gone;

    /// <summary>Upstream could not be asked (failed or timed out): a stale copy may stand in.</summary>
    public bool IsOutage => Kind is OutcomeKind.UpstreamFailed or OutcomeKind.Timeout;

    public static Outcome NotFound(string message) => new(OutcomeKind.NotFound, message);

    public static Outcome Gone(string message) => new(OutcomeKind.Gone, message);

    public static Outcome BadRequest(string message) => new(OutcomeKind.BadRequest, message);

    public static Outcome Forbidden(string message) => new(OutcomeKind.Forbidden, message);

    public static Outcome UpstreamFailed(string message) => new(OutcomeKind.UpstreamFailed, message);

    public static Outcome Timeout(string message) => new(OutcomeKind.Timeout, message);

    public static Outcome Refused(ReasonKind reason, string message) => new(OutcomeKind.Refused, message, reason);

    /// <summary>The same outcome with another message (the kind and reason are kept).</summary>
    public Outcome Because(string message) => this with { Message = message };

    /// <summary>A failed or missing fetch as an outcome with the given message: not found, gone, failed or timed out.</summary>
    public static Outcome FromFetch(FetchOutcome fetch, string message)
    {
        ArgumentNullException.ThrowIfNull(fetch);
        return fetch.Status switch
        {
            FetchStatus.NotFound => NotFound(message),
            FetchStatus.Gone => Gone(message),
            FetchStatus.TimedOut => Timeout(message),
            FetchStatus.Failed => UpstreamFailed(message),
            _ => throw new ArgumentException("a successful fetch is not an outcome", nameof(fetch)),
        };
    }

    /// <summary>A refused checksum verdict as an outcome: a timeout when the checksum database did not answer in time,
    /// else a checksum refusal.</summary>
    public static Outcome FromVerdict(ChecksumVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        return verdict.TimedOut ? Timeout(verdict.Message) : Refused(ReasonKind.ChecksumRejected, verdict.Message);
    }
}

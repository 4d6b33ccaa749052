namespace Warren.Protocol.GoProxy;

/// <summary>What a GOPROXY (or checksum database) GET came to, in the go command's terms.</summary>
public enum ProxyFetchStatus
{
    Ok,

    /// <summary>404 or 410: "not found", which may fall through to the next proxy of a chain.</summary>
    NotFound,

    /// <summary>Anything else: an error status, no answer, a timeout, a body too large or cut short.</summary>
    Failed,
}

/// <summary>Why a GET failed.</summary>
public enum ProxyFailure
{
    None,

    /// <summary>An answer with an error status (see <see cref="ProxyFetchResult.HttpStatus"/>).</summary>
    Status,

    /// <summary>No answer within the request's time limit.</summary>
    Timeout,

    /// <summary>The connection could not be made within the connect timeout.</summary>
    ConnectTimeout,

    /// <summary>The outbound policy refused the connection or a redirect.</summary>
    Refused,

    /// <summary>DNS, refused or reset connections, TLS, proxy tunnels.</summary>
    Network,

    /// <summary>The body is larger than the limit.</summary>
    TooLarge,

    /// <summary>The body is shorter than its declared length.</summary>
    Truncated,

    /// <summary>Reading the body (or writing it out) failed.</summary>
    Read,
}

/// <summary>The outcome of one GET. <see cref="Reason"/> is one line, redacted, safe to show; empty when Ok.</summary>
/// <param name="HttpStatus">The status of the answer, when there was one.</param>
/// <param name="Bytes">The bytes of the body written out (Ok only).</param>
/// <param name="Elapsed">From the start of the request to the end of the body.</param>
/// <param name="Cause">For <see cref="ProxyFailure.Network"/>: the class of the error as people diagnose it
/// ("DNS lookup failed (…)", "connection refused (…)"); else null.</param>
public sealed record ProxyFetchResult(ProxyFetchStatus Status, ProxyFailure Failure, int? HttpStatus, string Reason, long Bytes, TimeSpan Elapsed,
    string? Cause = null)
{
    public bool IsOk => Status == ProxyFetchStatus.Ok;

    public bool IsNotFound => Status == ProxyFetchStatus.NotFound;

    /// <summary>True for failures that are worth a 504 (Gateway Timeout) rather than a 502 when relayed.</summary>
    public bool IsTimeout => Failure is ProxyFailure.Timeout or ProxyFailure.ConnectTimeout || (Failure == ProxyFailure.Status && HttpStatus == 504);
}

/// <summary>A GET's body held in memory, with its outcome.</summary>
public sealed record ProxyFetchBytes(ProxyFetchResult Result, byte[]? Body)
{
    public bool IsOk => Result.IsOk;
}

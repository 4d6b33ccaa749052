using System.Net;
using Warren.Protocol.GoProxy;

namespace Warren.Protocol.SumDb;

/// <summary>The database could not be reached or answered with an error: the lookup failed, nothing was proven.</summary>
internal sealed class SumDbFetchException : Exception
{
    public SumDbFetchException()
    {
    }

    public SumDbFetchException(string message)
        : base(message)
    {
    }

    public SumDbFetchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the database did not answer in time.</summary>
    public bool TimedOut { get; init; }
}

/// <summary>The database answered with something that is not a valid response.</summary>
internal sealed class SumDbInvalidResponseException : Exception
{
    public SumDbInvalidResponseException()
    {
    }

    public SumDbInvalidResponseException(string message)
        : base(message)
    {
    }

    public SumDbInvalidResponseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>GETs against a checksum database's base URL through the <see cref="GoProxyClient"/>, with bounded bodies and
/// failures mapped to exceptions.</summary>
internal static class SumDbClientHttp
{
    /// <summary>GETs base + path. Returns the status and, for a success, the body (at most maxBytes).</summary>
    /// <exception cref="SumDbFetchException">Network failure or timeout.</exception>
    /// <exception cref="SumDbInvalidResponseException">The body is larger than maxBytes.</exception>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled.</exception>
    public static async Task<(HttpStatusCode Status, byte[]? Body)> GetAsync(
        GoProxyClient client, Uri baseUrl, string path, long maxBytes, CancellationToken cancellationToken)
    {
        var (result, body) = await client.GetBytesAsync(new Uri(baseUrl, path), maxBytes, cancellationToken).ConfigureAwait(false);
        return result.Failure switch
        {
            ProxyFailure.None => (HttpStatusCode.OK, body),
            ProxyFailure.Status when result.HttpStatus is { } status => ((HttpStatusCode)status, null),
            ProxyFailure.TooLarge => throw new SumDbInvalidResponseException($"{path}: response too large (limit {maxBytes} bytes)"),
            ProxyFailure.Timeout or ProxyFailure.ConnectTimeout => throw new SumDbFetchException("GET " + result.Reason) { TimedOut = true },
            _ => throw new SumDbFetchException("GET " + result.Reason),
        };
    }

    /// <summary>The error for a non-200 status other than those the caller handles.</summary>
    public static SumDbFetchException StatusError(Uri baseUrl, string path, HttpStatusCode status) =>
        new($"GET {new Uri(baseUrl, path)}: {(int)status} {status}");
}

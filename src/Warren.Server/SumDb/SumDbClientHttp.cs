using System.Net;

namespace Warren.Server.SumDb;

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

/// <summary>GETs against a checksum database's base URL, with bounded bodies and failures mapped to exceptions.</summary>
internal static class SumDbClientHttp
{
    /// <summary>GETs base + path. Returns the status and, for 200, the body (at most maxBytes).</summary>
    /// <exception cref="SumDbFetchException">Network failure or timeout.</exception>
    /// <exception cref="SumDbInvalidResponseException">The body is larger than maxBytes.</exception>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled.</exception>
    public static async Task<(HttpStatusCode Status, byte[]? Body)> GetAsync(
        HttpClient http, Uri baseUrl, string path, long maxBytes, CancellationToken cancellationToken)
    {
        var url = new Uri(baseUrl, path);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (response.StatusCode, null);
            }

            if (response.Content.Headers.ContentLength is long declared && declared > maxBytes)
            {
                throw new SumDbInvalidResponseException($"{path}: response too large ({declared} bytes, limit {maxBytes})");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int n;
            while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > maxBytes)
                {
                    throw new SumDbInvalidResponseException($"{path}: response too large (limit {maxBytes} bytes)");
                }

                buffer.Write(chunk, 0, n);
            }

            return (HttpStatusCode.OK, buffer.ToArray());
        }
        catch (HttpRequestException e)
        {
            throw new SumDbFetchException($"GET {url}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new SumDbFetchException($"GET {url}: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SumDbFetchException($"GET {url}: timed out", e) { TimedOut = true };
        }
    }

    /// <summary>The error for a non-200 status other than those the caller handles.</summary>
    public static SumDbFetchException StatusError(Uri baseUrl, string path, HttpStatusCode status) =>
        new($"GET {new Uri(baseUrl, path)}: {(int)status} {status}");
}

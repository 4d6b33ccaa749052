using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace Warren.Server.Endpoints;

/// <summary>Sends an object of a store that has no local file for it (object storage): conditional requests are
/// answered from its ETag and date, and a single byte range is passed through to the store as a ranged read, so a
/// resumed download never pulls the whole object through the node. Multiple ranges get the whole object, as RFC 9110
/// allows. With redirect, a GET is answered with a 302 to a short-lived presigned URL of the object where the store
/// offers one (the go command follows it), so the bytes go from object storage to the client directly.</summary>
public sealed class StoredObjectResult(StoredObject stored, string contentType, string cacheControl, bool redirect = false) : IResult
{
    /// <summary>How long a presigned URL of a redirect is valid.</summary>
    public static readonly TimeSpan RedirectLifetime = TimeSpan.FromMinutes(5);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var request = httpContext.Request;
        var response = httpContext.Response;
        var headers = response.Headers;
        if (redirect && HttpMethods.IsGet(request.Method) &&
            await stored.GetRedirectAsync(RedirectLifetime, httpContext.RequestAborted).ConfigureAwait(false) is { } location)
        {
            response.StatusCode = StatusCodes.Status302Found;
            headers.Location = location.AbsoluteUri;
            headers.CacheControl = "no-store";
            return;
        }

        headers.ETag = stored.ETag;
        headers.LastModified = HeaderUtilities.FormatDate(stored.LastModified);
        headers.AcceptRanges = "bytes";
        headers.CacheControl = cacheControl;

        if (NotModified(request, stored))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var (offset, length) = (0L, stored.Length);
        if (RangeOf(request, stored) is { } range)
        {
            if (range.Offset >= stored.Length)
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                headers.ContentRange = "bytes */" + stored.Length.ToString(CultureInfo.InvariantCulture);
                return;
            }

            (offset, length) = range;
            response.StatusCode = StatusCodes.Status206PartialContent;
            headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {offset}-{offset + length - 1}/{stored.Length}");
        }
        else
        {
            response.StatusCode = StatusCodes.Status200OK;
        }

        response.ContentType = contentType;
        response.ContentLength = length;
        if (HttpMethods.IsHead(request.Method) || length == 0)
        {
            return;
        }

        var token = httpContext.RequestAborted;
        var body = await stored.OpenReadAsync(offset, length, token).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            var buffer = new byte[64 * 1024];
            long sent = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
            {
                var take = (int)Math.Min(read, length - sent);
                await response.Body.WriteAsync(buffer.AsMemory(0, take), token).ConfigureAwait(false);
                sent += take;
                if (sent == length)
                {
                    break;
                }
            }

            if (sent != length)
            {
                // The store sent less than it promised: never let a short body pass as whole.
                httpContext.Abort();
            }
        }
    }

    private static bool NotModified(HttpRequest request, StoredObject stored)
    {
        var ifNoneMatch = request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0)
        {
            return EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags) &&
                tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || string.Equals(t.ToString(), stored.ETag, StringComparison.Ordinal));
        }

        return request.GetTypedHeaders().IfModifiedSince is { } since && stored.LastModified.AddTicks(-(stored.LastModified.Ticks % TimeSpan.TicksPerSecond)) <= since;
    }

    /// <summary>The one byte range asked for (offset, length), or null for the whole object: no Range, several ranges,
    /// a syntax error, or an If-Range that no longer matches.</summary>
    private static (long Offset, long Length)? RangeOf(HttpRequest request, StoredObject stored)
    {
        var typed = request.GetTypedHeaders();
        if (typed.Range is not { Unit.Value: "bytes", Ranges.Count: 1 } header || stored.Length == 0)
        {
            return null;
        }

        if (typed.IfRange is { } ifRange &&
            (ifRange.EntityTag is { } tag ? !string.Equals(tag.ToString(), stored.ETag, StringComparison.Ordinal) : ifRange.LastModified < stored.LastModified.AddTicks(-(stored.LastModified.Ticks % TimeSpan.TicksPerSecond))))
        {
            return null;
        }

        var range = header.Ranges.First();
        if (range.From is { } from)
        {
            var to = range.To is { } t ? Math.Min(t, stored.Length - 1) : stored.Length - 1;
            return from > to && from < stored.Length ? null : (from, Math.Max(0, to - from + 1));
        }

        if (range.To is { } suffix && suffix > 0)
        {
            var length = Math.Min(suffix, stored.Length);
            return (stored.Length - length, length);
        }

        return null;
    }
}

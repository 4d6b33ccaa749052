using Microsoft.Net.Http.Headers;

namespace Warren.Server.Endpoints;

/// <summary>Sends an open immutable file straight from the page cache into Kestrel's output pipe (pread into the
/// pipe's own buffers; no intermediate copy). Conditional and range requests go to the framework's file result.</summary>
public sealed class OpenFileResult(OpenArtifact file, string contentType, string cacheControl) : IResult
{
    private const int Chunk = 64 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        // Hold the file while sending: the cache may evict it meanwhile, and the handle is closed when the last holder
        // lets go. An already closed one means a plain file response.
        if (!file.TryAcquire())
        {
            httpContext.Response.Headers.CacheControl = cacheControl;
            await Results.File(file.Path, contentType, lastModified: file.LastModified, entityTag: new EntityTagHeaderValue(file.ETag), enableRangeProcessing: true)
                .ExecuteAsync(httpContext).ConfigureAwait(false);
            return;
        }

        try
        {
            await SendAsync(httpContext).ConfigureAwait(false);
        }
        finally
        {
            file.Release();
        }
    }

    private async Task SendAsync(HttpContext httpContext)
    {
        var request = httpContext.Request.Headers;
        var response = httpContext.Response;
        if (request.Range.Count > 0 || request.IfNoneMatch.Count > 0 || request.IfModifiedSince.Count > 0 || request.IfMatch.Count > 0 ||
            request.IfUnmodifiedSince.Count > 0 || request.IfRange.Count > 0)
        {
            await Results.File(file.Path, contentType, lastModified: file.LastModified, entityTag: new EntityTagHeaderValue(file.ETag), enableRangeProcessing: true)
                .ExecuteAsync(httpContext).ConfigureAwait(false);
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = file.Length;
        var headers = response.Headers;
        headers.ETag = file.ETag;
        headers.LastModified = HeaderUtilities.FormatDate(file.LastModified);
        headers.AcceptRanges = "bytes";
        headers.CacheControl = cacheControl;
        if (HttpMethods.IsHead(httpContext.Request.Method))
        {
            return;
        }

        // Headers first: body bytes written before them are kept in a side buffer and copied into the pipe behind
        // the headers at the first flush; once they are out, the file is read straight into the pipe's buffers.
        var token = httpContext.RequestAborted;
        await response.StartAsync(token).ConfigureAwait(false);
        var writer = response.BodyWriter;
        long offset = 0;
        while (offset < file.Length)
        {
            var memory = writer.GetMemory(Chunk);
            var want = (int)Math.Min(memory.Length, file.Length - offset);
            var read = RandomAccess.Read(file.Handle, memory.Span[..want], offset);
            if (read == 0)
            {
                // The stored file shrank under us: never send a short body as if it were whole.
                httpContext.Abort();
                return;
            }

            writer.Advance(read);
            offset += read;
            var flushed = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
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

    /// <summary>True when a request has a range or a condition (If-None-Match, If-Modified-Since, If-Match,
    /// If-Unmodified-Since, If-Range): what needs the stored file's validators and length, and the framework's file result.</summary>
    internal static bool HasRangeOrCondition(IHeaderDictionary request) =>
        request.Range.Count > 0 || request.IfNoneMatch.Count > 0 || request.IfModifiedSince.Count > 0 || request.IfMatch.Count > 0 ||
        request.IfUnmodifiedSince.Count > 0 || request.IfRange.Count > 0;

    private async Task SendAsync(HttpContext httpContext)
    {
        var request = httpContext.Request.Headers;
        var response = httpContext.Response;
        if (HasRangeOrCondition(request))
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
        if (file.Length <= Chunk)
        {
            // One read straight into the pipe's buffer.
            var memory = writer.GetMemory((int)file.Length);
            if (TryRead(httpContext, memory.Span[..(int)file.Length], 0))
            {
                writer.Advance((int)file.Length);
                await writer.FlushAsync(token).ConfigureAwait(false);
            }

            return;
        }

        // Larger files are read chunk by chunk straight into the pipe's own 64 KB segments (one read and one send per
        // chunk), as long as few enough senders do so at once. Those segments come from the shared array pool, which
        // keeps a bounded number of them (per core): beyond that every segment is a fresh array held until the slow
        // client has taken it, and 100 clients of a large zip made that tens of megabytes of garbage-collected memory.
        // The others read into a briefly rented buffer and copy it into the pipe's small pooled blocks.
        if (Interlocked.Increment(ref s_directSenders) <= DirectSenderLimit)
        {
            try
            {
                await SendDirectAsync(httpContext, writer, token).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref s_directSenders);
            }

            return;
        }

        Interlocked.Decrement(ref s_directSenders);
        await SendCopiedAsync(httpContext, writer, token).ConfigureAwait(false);
    }

    /// <summary>How many large files may be sent at once through the pipe's 64 KB segments: each holds about two
    /// (one being sent, one being filled); the shared array pool keeps 32 arrays of a size per core.</summary>
    internal static int DirectSenderLimit { get; set; } = 16 * Environment.ProcessorCount;

    private static int s_directSenders;

    private async Task SendDirectAsync(HttpContext httpContext, PipeWriter writer, CancellationToken token)
    {
        long offset = 0;
        while (offset < file.Length)
        {
            var memory = writer.GetMemory(Chunk);
            var want = (int)Math.Min(memory.Length, file.Length - offset);
            if (!TryRead(httpContext, memory.Span[..want], offset))
            {
                return;
            }

            writer.Advance(want);
            offset += want;
            var flushed = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }

    private async Task SendCopiedAsync(HttpContext httpContext, PipeWriter writer, CancellationToken token)
    {
        long offset = 0;
        while (offset < file.Length)
        {
            var want = (int)Math.Min(Chunk, file.Length - offset);
            var buffer = ArrayPool<byte>.Shared.Rent(Chunk);
            try
            {
                if (!TryRead(httpContext, buffer.AsSpan(0, want), offset))
                {
                    return;
                }

                // Copied into the pipe: the buffer goes back before waiting for the client.
                writer.Write(buffer.AsSpan(0, want));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            offset += want;
            var flushed = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Fills <paramref name="destination"/> from the file at <paramref name="offset"/>; false (and the
    /// connection aborted) when the stored file shrank under us: never send a short body as if it were whole.</summary>
    private bool TryRead(HttpContext httpContext, Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            var read = RandomAccess.Read(file.Handle, destination, offset);
            if (read == 0)
            {
                httpContext.Abort();
                return false;
            }

            destination = destination[read..];
            offset += read;
        }

        return true;
    }
}

using System.IO.Pipelines;
using Microsoft.Extensions.Logging;

namespace Warren.Server.Endpoints;

/// <summary>Sends a zip while it is fetched from an upstream proxy and verified (<see cref="WarrenOptions.StreamFetchedZips"/>):
/// each appended byte of the staged file but the last as it arrives, then, once the ingest has checked, verified and
/// committed the zip, the last byte. With no declared size the body is chunked and its end is what waits. A download
/// that does not complete or a zip that is refused cuts the response short (the connection is aborted), so the client
/// sees an error and never a complete body that was not verified.</summary>
public sealed class LiveZipResult(Ingest.LiveZip zip, string cacheControl, Ingest.LiveStages live, WarrenMetrics metrics, ILogger logger) : IResult
{
    private const int Chunk = 64 * 1024;

    /// <summary>Set in the request's items when the response was cut short: it was not a download.</summary>
    public const string CutItem = "warren.zip-cut";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        using var reader = zip.Reader;
        var stage = zip.Stage;
        var response = httpContext.Response;
        var cancellationToken = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/zip";
        response.Headers.CacheControl = cacheControl;
        var declared = stage.DeclaredLength;
        if (declared is { } length)
        {
            response.ContentLength = length;
        }

        await response.StartAsync(cancellationToken).ConfigureAwait(false);
        var body = response.BodyWriter;
        long sent = 0;

        // What may go before the verdict: all that is appended, but never the last byte of a declared size.
        long Unverified(long appended) => declared is { } size ? Math.Min(appended, Math.Max(0, size - 1)) : appended;

        while (!stage.HasEnded)
        {
            var appended = stage.Written;
            sent = await SendAsync(reader, body, sent, Unverified(appended), cancellationToken).ConfigureAwait(false);
            await stage.WaitForMoreAsync(appended, cancellationToken).ConfigureAwait(false);
        }

        string? failure = null;
        if (!stage.EndedComplete)
        {
            failure = "the download from upstream did not complete";
        }
        else
        {
            var total = stage.Written;
            sent = await SendAsync(reader, body, sent, Unverified(total), cancellationToken).ConfigureAwait(false);
            if (await zip.Ingest.WaitAsync(cancellationToken).ConfigureAwait(false) is { } refused)
            {
                failure = refused.Message;
            }
            else if (declared is { } size && size != total)
            {
                failure = $"upstream declared {size} bytes and sent {total}";
            }
            else
            {
                sent = await SendAsync(reader, body, sent, total, cancellationToken).ConfigureAwait(false);
            }
        }

        metrics.ZipStreamed(complete: failure is null);
        if (failure is not null)
        {
            Log.StreamedZipCut(logger, stage.Key, sent, failure);
            live.Cut(stage.Key);
            httpContext.Items[CutItem] = true;
            httpContext.Abort();
        }
    }

    /// <summary>Sends the staged file's bytes from..to (exclusive); returns to.</summary>
    private static async Task<long> SendAsync(Microsoft.Win32.SafeHandles.SafeFileHandle reader, PipeWriter body, long from, long to, CancellationToken cancellationToken)
    {
        while (from < to)
        {
            var want = (int)Math.Min(Chunk, to - from);
            var memory = body.GetMemory(want);
            var read = await RandomAccess.ReadAsync(reader, memory[..Math.Min(want, memory.Length)], from, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"the staged file ended at {from} bytes, before the {to} that were appended");
            }

            body.Advance(read);
            from += read;
            await body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        return to;
    }
}

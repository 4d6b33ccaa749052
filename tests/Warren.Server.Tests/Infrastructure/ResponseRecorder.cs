using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Warren.Server.Tests.Infrastructure;

/// <summary>One response a server sent: request path, status and the body bytes as written.</summary>
public sealed record RecordedResponse(string Path, int Status, byte[] Body);

/// <summary>Middleware that keeps a copy of every response body a server writes (to any client), e.g. to check that no
/// secret is ever sent.</summary>
public sealed class ResponseRecorder
{
    public ConcurrentQueue<RecordedResponse> Responses { get; } = new();

    /// <summary>Adds the recording middleware to a built (not yet started) application.</summary>
    public void Attach(WebApplication app) => app.Use(async (context, next) =>
    {
        var original = context.Response.Body;
        using var copy = new MemoryStream();
        context.Response.Body = new TeeStream(original, copy);
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
            Responses.Enqueue(new RecordedResponse(context.Request.Path.Value ?? "", context.Response.StatusCode, copy.ToArray()));
        }
    });

    /// <summary>A write-only stream writing to the response and to a copy.</summary>
    private sealed class TeeStream(Stream inner, MemoryStream copy) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Keep(buffer.AsSpan(offset, count));
            inner.Write(buffer, offset, count);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Keep(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        private void Keep(ReadOnlySpan<byte> bytes)
        {
            lock (copy)
            {
                copy.Write(bytes);
            }
        }
    }
}

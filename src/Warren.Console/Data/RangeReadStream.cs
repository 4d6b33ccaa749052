using Warren.Storage;

namespace Warren.WebConsole.Data;

/// <summary>A read-only, seekable view of a stored object that reads ranges on demand (64 KiB at a time), so that a zip's
/// central directory, at its end, is read without fetching the whole object (object storage has no local file).
/// At most <see cref="MaxBytes"/> are read through one instance.</summary>
internal sealed class RangeReadStream(StoredObject stored, CancellationToken cancellationToken) : Stream
{
    private const int Chunk = 64 * 1024;

    /// <summary>Most bytes read (a central directory is small; a hostile zip cannot make the console read gigabytes).</summary>
    public const long MaxBytes = 16 * 1024 * 1024;

    private byte[] _buffer = [];
    private long _bufferStart = -1;
    private long _position;
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => stored.Length;

    public override long Position
    {
        get => _position;
        set => _position = value is >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken token = default)
    {
        if (_position >= Length || destination.Length == 0)
        {
            return 0;
        }

        if (_bufferStart < 0 || _position < _bufferStart || _position >= _bufferStart + _buffer.Length)
        {
            var start = _position;
            var length = (int)Math.Min(Chunk, Length - start);
            if (_read + length > MaxBytes)
            {
                throw new InvalidDataException($"reading the zip's directory needs more than {MaxBytes / (1024 * 1024)} MiB");
            }

            var stream = await stored.OpenReadAsync(start, length, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var chunk = new byte[length];
                await stream.ReadExactlyAsync(chunk, cancellationToken).ConfigureAwait(false);
                _buffer = chunk;
                _bufferStart = start;
                _read += length;
            }
        }

        var available = (int)(_bufferStart + _buffer.Length - _position);
        var n = Math.Min(available, destination.Length);
        _buffer.AsMemory((int)(_position - _bufferStart), n).CopyTo(destination);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken token) =>
        ReadAsync(buffer.AsMemory(offset, count), token).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

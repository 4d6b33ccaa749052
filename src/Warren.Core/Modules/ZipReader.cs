using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Warren.Core.Modules;

/// <summary>One central-directory record of a zip file, as Go's archive/zip sees it.</summary>
internal sealed record ZipEntryInfo
{
    /// <summary>The name exactly as stored (Go treats names as raw bytes).</summary>
    public required byte[] NameBytes { get; init; }

    /// <summary>The name decoded as UTF-8 (invalid sequences replaced by U+FFFD, see <see cref="NameIsValidUtf8"/>).</summary>
    public required string Name { get; init; }

    public required bool NameIsValidUtf8 { get; init; }
    public required ushort Flags { get; init; }
    public required ushort Method { get; init; }
    public required uint Crc32 { get; init; }
    public required ulong CompressedSize { get; init; }
    public required ulong UncompressedSize { get; init; }
    public required long HeaderOffset { get; init; }

    public bool HasDataDescriptor => (Flags & 0x8) != 0;
}

/// <summary>
/// A small read-only zip reader with the semantics of Go's archive/zip: it exposes raw entry names, enforces the
/// declared uncompressed size and the CRC-32 of every entry while reading, and streams data with positional reads
/// (nothing is buffered whole). System.IO.Compression.ZipArchive is not used for reading entries because it silently
/// truncates deflated data at the declared size and does not verify checksums.
/// Errors are reported as <see cref="InvalidDataException"/> with Go's messages ("zip: not a valid zip file", ...).
/// </summary>
internal sealed class ZipReader : IDisposable
{
    internal const string ErrFormat = "zip: not a valid zip file";
    internal const string ErrAlgorithm = "zip: unsupported compression algorithm";
    internal const string ErrChecksum = "zip: checksum error";
    internal const string ErrUnexpectedEof = "unexpected EOF";

    private const uint FileHeaderSignature = 0x04034b50;
    private const uint DirectoryHeaderSignature = 0x02014b50;
    private const uint DirectoryEndSignature = 0x06054b50;
    private const uint Directory64LocSignature = 0x07064b50;
    private const uint Directory64EndSignature = 0x06064b50;
    private const uint DataDescriptorSignature = 0x08074b50;
    private const int FileHeaderLen = 30;
    private const int DirectoryHeaderLen = 46;
    private const int DirectoryEndLen = 22;
    private const int Directory64LocLen = 20;
    private const int Directory64EndLen = 56;
    private const ushort Zip64ExtraId = 0x0001;

    internal const int BufferSize = 128 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly SafeFileHandle _handle;

    private ZipReader(SafeFileHandle handle, long length, List<ZipEntryInfo> entries)
    {
        _handle = handle;
        Length = length;
        Entries = entries;
    }

    public long Length { get; }

    /// <summary>Entries in central-directory order.</summary>
    public IReadOnlyList<ZipEntryInfo> Entries { get; }

    /// <summary>Opens the zip and reads its central directory. Throws InvalidDataException for malformed zips.</summary>
    public static ZipReader Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(handle);
            var entries = ReadCentralDirectory(handle, length);
            return new ZipReader(handle, length, entries);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>
    /// Streams the uncompressed content of entry through onChunk (in pieces of the caller's buffer), checking the
    /// declared uncompressed size and the CRC-32 as Go's checksumReader does. Returns the number of bytes read.
    /// </summary>
    public long ReadEntry(ZipEntryInfo entry, byte[] buffer, Action<ReadOnlySpan<byte>> onChunk, CancellationToken cancellationToken = default)
    {
        if (entry.CompressedSize > long.MaxValue / 2)
        {
            throw new InvalidDataException(ErrFormat);
        }
        long compressedSize = (long)entry.CompressedSize;

        if (entry.Method == 8 && compressedSize == 0)
        {
            // An empty deflate stream lacks even the final block; Go's flate reader fails on it. (DeflateStream does
            // not report other unterminated streams; sizes and CRC-32 still catch truncated or altered data.)
            throw new InvalidDataException($"{ErrUnexpectedEof}: no deflate data for file {entry.Name}");
        }

        // A small entry (most of a module zip) is read whole, local header to data descriptor, in one read; the rest
        // read their header, then their data in chunks, then their descriptor.
        byte[]? whole = null;
        try
        {
            long dataOffset;
            Stream section;
            int descriptorAt = -1;
            int wholeLength = 0;
            if (compressedSize <= WholeEntryLimit)
            {
                int want = FileHeaderLen + entry.NameBytes.Length + WholeEntrySlack + (int)compressedSize + DataDescriptorMaxLen;
                whole = System.Buffers.ArrayPool<byte>.Shared.Rent(want);
                wholeLength = entry.HeaderOffset < 0 ? 0 : ReadFullAt(_handle, whole.AsSpan(0, want), entry.HeaderOffset);
                int bodyStart = BodyStart(entry, whole.AsSpan(0, wholeLength));
                dataOffset = entry.HeaderOffset + bodyStart;
                if (bodyStart + compressedSize <= wholeLength)
                {
                    section = new MemoryStream(whole, bodyStart, (int)compressedSize, writable: false);

                    // The descriptor is in the bytes read when all 16 are, or when the read stopped at the end of the file.
                    int end = bodyStart + (int)compressedSize;
                    if (wholeLength - end >= DataDescriptorMaxLen || wholeLength < want)
                    {
                        descriptorAt = end;
                    }
                }
                else
                {
                    section = new SectionStream(_handle, dataOffset, compressedSize, Length);
                }
            }
            else
            {
                dataOffset = FindBodyOffset(entry);
                section = new SectionStream(_handle, dataOffset, compressedSize, Length);
            }

            using (section)
            {
                var (nread, crc) = ReadBody(entry, section, buffer, onChunk, cancellationToken);
                if (entry.HasDataDescriptor)
                {
                    // The bytes after the data, as many as a read of the file there gives.
                    Span<byte> read = stackalloc byte[DataDescriptorMaxLen];
                    CheckDataDescriptor(entry, descriptorAt >= 0
                        ? whole.AsSpan(descriptorAt, Math.Min(DataDescriptorMaxLen, wholeLength - descriptorAt))
                        : read[..ReadFullAt(_handle, read, dataOffset + compressedSize)]);
                    if (crc != entry.Crc32)
                    {
                        throw new InvalidDataException($"{ErrChecksum} in file {entry.Name}");
                    }
                }
                else if (entry.Crc32 != 0 && crc != entry.Crc32)
                {
                    throw new InvalidDataException($"{ErrChecksum} in file {entry.Name}");
                }

                return nread;
            }
        }
        finally
        {
            if (whole is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(whole);
            }
        }
    }

    /// <summary>Entries compressed to at most this many bytes are read whole in one read.</summary>
    private const int WholeEntryLimit = 64 * 1024;

    /// <summary>Room in a whole read for a local header's extra field (absent or short in module zips; a longer one
    /// falls back to reading the data separately).</summary>
    private const int WholeEntrySlack = 64;

    /// <summary>A data descriptor with its optional signature: signature, CRC-32, compressed and uncompressed sizes.</summary>
    private const int DataDescriptorMaxLen = 16;

    /// <summary>Decompresses an entry's data from section, enforcing the declared uncompressed size: the bytes read and
    /// their CRC-32 (the caller compares it, after checking a data descriptor, as Go's checksumReader does).</summary>
    private static (long Read, uint Crc) ReadBody(ZipEntryInfo entry, Stream section, byte[] buffer, Action<ReadOnlySpan<byte>> onChunk, CancellationToken cancellationToken)
    {
        Stream source = entry.Method switch
        {
            0 => section,
            8 => new DeflateStream(section, CompressionMode.Decompress, leaveOpen: true),
            _ => throw new InvalidDataException(ErrAlgorithm),
        };

        try
        {
            var crc = new Crc32();
            ulong nread = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = source.Read(buffer, 0, buffer.Length);
                if (n == 0)
                {
                    break;
                }
                nread += (ulong)n;
                if (nread > entry.UncompressedSize)
                {
                    throw new InvalidDataException(
                        $"uncompressed size of file {entry.Name} is larger than declared size ({entry.UncompressedSize} bytes)");
                }
                var chunk = new ReadOnlySpan<byte>(buffer, 0, n);
                crc.Append(chunk);
                onChunk(chunk);
            }

            if (nread != entry.UncompressedSize)
            {
                throw new InvalidDataException(
                    $"{ErrUnexpectedEof}: uncompressed size of file {entry.Name} is smaller than declared size ({entry.UncompressedSize} bytes)");
            }

            return ((long)nread, crc.GetCurrentHashAsUInt32());
        }
        finally
        {
            if (!ReferenceEquals(source, section))
            {
                source.Dispose();
            }
        }
    }

    private long FindBodyOffset(ZipEntryInfo entry)
    {
        Span<byte> header = stackalloc byte[FileHeaderLen];
        int read = entry.HeaderOffset < 0 ? 0 : ReadFullAt(_handle, header, entry.HeaderOffset);
        return entry.HeaderOffset + BodyStart(entry, header[..read]);
    }

    /// <summary>Where an entry's data starts, relative to its local header, from the bytes read at the header (at least
    /// the header itself, else the zip is not valid).</summary>
    private static int BodyStart(ZipEntryInfo entry, ReadOnlySpan<byte> header)
    {
        if (entry.HeaderOffset < 0 || header.Length < FileHeaderLen || BinaryPrimitives.ReadUInt32LittleEndian(header) != FileHeaderSignature)
        {
            throw new InvalidDataException(ErrFormat);
        }
        int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]);
        int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        return FileHeaderLen + nameLen + extraLen;
    }

    /// <summary>Checks a data descriptor from the bytes after the entry's data (up to 16: as many as the file has).</summary>
    private static void CheckDataDescriptor(ZipEntryInfo entry, ReadOnlySpan<byte> buf)
    {
        // [signature (optional)] crc32 csize32 usize32. As in Go, the 12 bytes after the optional signature must be
        // present, and only the CRC-32 is compared (the sizes from the central directory are authoritative).
        int n = buf.Length;
        bool hasSignature = n >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(buf) == DataDescriptorSignature;
        if (n < (hasSignature ? 16 : 12))
        {
            throw new InvalidDataException(ErrUnexpectedEof);
        }
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(hasSignature ? buf[4..] : buf);
        if (crc != entry.Crc32)
        {
            throw new InvalidDataException($"{ErrChecksum} in file {entry.Name}");
        }
    }

    private static int ReadFullAt(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    private sealed record DirectoryEnd(ulong DirectoryRecords, ulong DirectorySize, ulong DirectoryOffset);

    private static List<ZipEntryInfo> ReadCentralDirectory(SafeFileHandle handle, long size)
    {
        var (end, baseOffset) = ReadDirectoryEnd(handle, size);

        var entries = new List<ZipEntryInfo>();
        var reader = new SequentialReader(handle, size);
        reader.Position = baseOffset + (long)end.DirectoryOffset;
        string? error;
        while (true)
        {
            error = ReadDirectoryHeader(reader, out var entry);
            if (error == ErrFormat && baseOffset != 0 && entries.Count == 0)
            {
                // Like other zip readers, retry from offset zero when a non-zero base offset does not work.
                baseOffset = 0;
                reader.Position = (long)end.DirectoryOffset;
                continue;
            }
            if (error is not null)
            {
                break;
            }
            entries.Add(entry! with { HeaderOffset = entry.HeaderOffset + baseOffset });
        }

        // The record count is only 16 bits wide in non-zip64 archives; compare only those bits, as Go does.
        if ((ushort)entries.Count != (ushort)end.DirectoryRecords)
        {
            throw new InvalidDataException(error);
        }
        return entries;
    }

    private static (DirectoryEnd End, long BaseOffset) ReadDirectoryEnd(SafeFileHandle handle, long size)
    {
        byte[]? block = null;
        int found = -1;
        long endOffset = 0;
        foreach (long want in new long[] { 1024, 65 * 1024 })
        {
            long len = Math.Min(want, size);
            block = new byte[len];
            ReadFullAt(handle, block, size - len);
            found = FindSignatureInBlock(block);
            if (found >= 0)
            {
                endOffset = size - len + found;
                break;
            }
            if (len == size)
            {
                break;
            }
        }
        if (found < 0 || block is null)
        {
            throw new InvalidDataException(ErrFormat);
        }

        var b = block.AsSpan(found + 4);
        ulong records = BinaryPrimitives.ReadUInt16LittleEndian(b[6..]);
        ulong dirSize = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        ulong dirOffset = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]);
        int commentLen = BinaryPrimitives.ReadUInt16LittleEndian(b[16..]);
        if (commentLen > b.Length - 18)
        {
            throw new InvalidDataException("zip: invalid comment length");
        }

        if (records == 0xffff || dirSize == 0xffff || dirOffset == 0xffffffff)
        {
            long p = FindDirectory64End(handle, endOffset);
            if (p >= 0)
            {
                endOffset = p;
                Span<byte> buf = stackalloc byte[Directory64EndLen];
                if (ReadFullAt(handle, buf, p) != Directory64EndLen)
                {
                    throw new InvalidDataException(ErrUnexpectedEof);
                }
                if (BinaryPrimitives.ReadUInt32LittleEndian(buf) != Directory64EndSignature)
                {
                    throw new InvalidDataException(ErrFormat);
                }
                records = BinaryPrimitives.ReadUInt64LittleEndian(buf[32..]);
                dirSize = BinaryPrimitives.ReadUInt64LittleEndian(buf[40..]);
                dirOffset = BinaryPrimitives.ReadUInt64LittleEndian(buf[48..]);
            }
        }

        if (dirSize > (ulong)size || dirOffset > (ulong)size)
        {
            throw new InvalidDataException(ErrFormat);
        }
        long baseOffset = endOffset - (long)dirSize - (long)dirOffset;
        long o = baseOffset + (long)dirOffset;
        if (o < 0 || o >= size)
        {
            throw new InvalidDataException(ErrFormat);
        }
        return (new DirectoryEnd(records, dirSize, dirOffset), baseOffset);
    }

    private static int FindSignatureInBlock(byte[] b)
    {
        for (int i = b.Length - DirectoryEndLen; i >= 0; i--)
        {
            if (b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 0x05 && b[i + 3] == 0x06)
            {
                int n = b[i + DirectoryEndLen - 2] | (b[i + DirectoryEndLen - 1] << 8);
                if (n + DirectoryEndLen + i <= b.Length)
                {
                    return i;
                }
            }
        }
        return -1;
    }

    private static long FindDirectory64End(SafeFileHandle handle, long directoryEndOffset)
    {
        long locOffset = directoryEndOffset - Directory64LocLen;
        if (locOffset < 0)
        {
            return -1;
        }
        Span<byte> buf = stackalloc byte[Directory64LocLen];
        if (ReadFullAt(handle, buf, locOffset) != Directory64LocLen)
        {
            throw new InvalidDataException(ErrUnexpectedEof);
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(buf) != Directory64LocSignature
            || BinaryPrimitives.ReadUInt32LittleEndian(buf[4..]) != 0
            || BinaryPrimitives.ReadUInt32LittleEndian(buf[16..]) != 1)
        {
            return -1;
        }
        ulong p = BinaryPrimitives.ReadUInt64LittleEndian(buf[8..]);
        return p > long.MaxValue ? throw new InvalidDataException(ErrFormat) : (long)p;
    }

    /// <summary>Reads one central-directory header; returns null on success, else ErrFormat / ErrUnexpectedEof.</summary>
    private static string? ReadDirectoryHeader(SequentialReader reader, out ZipEntryInfo? entry)
    {
        entry = null;
        Span<byte> h = stackalloc byte[DirectoryHeaderLen];
        if (!reader.TryReadExactly(h))
        {
            return ErrUnexpectedEof;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != DirectoryHeaderSignature)
        {
            return ErrFormat;
        }
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
        ushort method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
        uint csize32 = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
        uint usize32 = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
        int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
        int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
        int commentLen = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
        uint offset32 = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);

        var name = new byte[nameLen];
        var extra = new byte[extraLen];
        if (!reader.TryReadExactly(name) || !reader.TryReadExactly(extra) || !reader.TrySkip(commentLen))
        {
            return ErrUnexpectedEof;
        }

        ulong csize = csize32, usize = usize32, headerOffset = offset32;
        bool needUSize = usize32 == uint.MaxValue;
        bool needCSize = csize32 == uint.MaxValue;
        bool needOffset = offset32 == uint.MaxValue;

        var ex = extra.AsSpan();
        while (ex.Length >= 4)
        {
            ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(ex);
            int fieldSize = BinaryPrimitives.ReadUInt16LittleEndian(ex[2..]);
            ex = ex[4..];
            if (ex.Length < fieldSize)
            {
                break;
            }
            var field = ex[..fieldSize];
            ex = ex[fieldSize..];
            if (tag != Zip64ExtraId)
            {
                continue;
            }
            // The zip64 values are only consulted for the fields that are maxed out, in this order.
            if (needUSize)
            {
                needUSize = false;
                if (field.Length < 8)
                {
                    return ErrFormat;
                }
                usize = BinaryPrimitives.ReadUInt64LittleEndian(field);
                field = field[8..];
            }
            if (needCSize)
            {
                needCSize = false;
                if (field.Length < 8)
                {
                    return ErrFormat;
                }
                csize = BinaryPrimitives.ReadUInt64LittleEndian(field);
                field = field[8..];
            }
            if (needOffset)
            {
                needOffset = false;
                if (field.Length < 8)
                {
                    return ErrFormat;
                }
                headerOffset = BinaryPrimitives.ReadUInt64LittleEndian(field);
            }
        }

        // An uncompressed size of 2^32-1 without zip64 data is accepted (42.zip); the other two are not plausible.
        if (needCSize || needOffset || headerOffset > long.MaxValue / 2)
        {
            return ErrFormat;
        }

        string decoded;
        bool valid = true;
        try
        {
            decoded = StrictUtf8.GetString(name);
        }
        catch (DecoderFallbackException)
        {
            decoded = Encoding.UTF8.GetString(name);
            valid = false;
        }

        entry = new ZipEntryInfo
        {
            NameBytes = name,
            Name = decoded,
            NameIsValidUtf8 = valid,
            Flags = flags,
            Method = method,
            Crc32 = crc,
            CompressedSize = csize,
            UncompressedSize = usize,
            HeaderOffset = (long)headerOffset,
        };
        return null;
    }

    /// <summary>A buffered forward reader over positional reads of the file.</summary>
    private sealed class SequentialReader(SafeFileHandle handle, long size)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private long _bufferStart;
        private int _bufferLength;

        public long Position { get; set; }

        public bool TryReadExactly(Span<byte> destination)
        {
            while (destination.Length > 0)
            {
                if (Position < _bufferStart || Position >= _bufferStart + _bufferLength)
                {
                    if (Position >= size)
                    {
                        return false;
                    }
                    _bufferStart = Position;
                    _bufferLength = ReadFullAt(handle, _buffer, Position);
                    if (_bufferLength == 0)
                    {
                        return false;
                    }
                }
                int at = (int)(Position - _bufferStart);
                int n = Math.Min(destination.Length, _bufferLength - at);
                _buffer.AsSpan(at, n).CopyTo(destination);
                destination = destination[n..];
                Position += n;
            }
            return true;
        }

        public bool TrySkip(int count)
        {
            if (Position + count > size)
            {
                return false;
            }
            Position += count;
            return true;
        }
    }

    /// <summary>A read-only window [offset, offset+length) of the file, read with positional reads.</summary>
    private sealed class SectionStream(SafeFileHandle handle, long offset, long length, long fileLength) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long remaining = length - _position;
            long at = offset + _position;
            if (remaining <= 0 || at >= fileLength)
            {
                return 0;
            }
            int want = (int)Math.Min(buffer.Length, remaining);
            int n = RandomAccess.Read(handle, buffer[..want], at);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

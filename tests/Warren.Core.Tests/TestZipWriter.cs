using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Warren.Core.Modules;

namespace Warren.Core.Tests;

/// <summary>One entry of a hand-made zip; the Declared*/Crc overrides write lying headers.</summary>
internal sealed record TestZipEntry(string Name, byte[] Content)
{
    public bool Deflate { get; init; } = true;
    public ulong? DeclaredSize { get; init; }
    public uint? Crc { get; init; }

    /// <summary>Raw name bytes, when the name is not valid UTF-8.</summary>
    public byte[]? RawName { get; init; }

    /// <summary>Compressed bytes to store instead of compressing Content.</summary>
    public byte[]? RawData { get; init; }

    /// <summary>An extra field in the local header only (the central directory's stays empty).</summary>
    public byte[]? LocalExtra { get; init; }

    /// <summary>A data descriptor after the data, as Go's zip.Writer writes (flag 0x8, zeros in the local header):
    /// with its signature or without; none by default.</summary>
    public TestDescriptor Descriptor { get; init; }

    /// <summary>The CRC-32 the data descriptor carries, when it should differ from the central directory's.</summary>
    public uint? DescriptorCrc { get; init; }

    public static TestZipEntry Text(string name, string content) => new(name, Encoding.UTF8.GetBytes(content));
}

public enum TestDescriptor
{
    None,
    Signed,
    Unsigned,
}

/// <summary>Writes zip files byte by byte, so tests can produce archives no well-behaved zip library would.</summary>
internal static class TestZipWriter
{
    public static void Write(string path, IEnumerable<TestZipEntry> entries)
    {
        using var file = File.Create(path);
        var central = new MemoryStream();
        int count = 0;
        Span<byte> local = stackalloc byte[30];
        Span<byte> dir = stackalloc byte[46];
        foreach (var entry in entries)
        {
            count++;
            byte[] name = entry.RawName ?? Encoding.UTF8.GetBytes(entry.Name);
            byte[] data = entry.RawData ?? (entry.Deflate ? DeflateBytes(entry.Content) : entry.Content);
            uint crcValue = entry.Crc ?? System.IO.Hashing.Crc32.HashToUInt32(entry.Content);
            uint usize = (uint)(entry.DeclaredSize ?? (ulong)entry.Content.Length);
            ushort method = entry.Deflate ? (ushort)8 : (ushort)0;
            ushort flags = entry.Descriptor == TestDescriptor.None ? (ushort)0x800 : (ushort)0x808;
            byte[] extra = entry.LocalExtra ?? [];
            bool described = entry.Descriptor != TestDescriptor.None;
            long offset = file.Position;

            local.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(local, 0x04034b50);
            BinaryPrimitives.WriteUInt16LittleEndian(local[4..], 20);
            BinaryPrimitives.WriteUInt16LittleEndian(local[6..], flags);
            BinaryPrimitives.WriteUInt16LittleEndian(local[8..], method);
            BinaryPrimitives.WriteUInt16LittleEndian(local[10..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(local[12..], 0x21);
            BinaryPrimitives.WriteUInt32LittleEndian(local[14..], described ? 0 : crcValue);
            BinaryPrimitives.WriteUInt32LittleEndian(local[18..], described ? 0 : (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(local[22..], described ? 0 : usize);
            BinaryPrimitives.WriteUInt16LittleEndian(local[26..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(local[28..], (ushort)extra.Length);
            file.Write(local);
            file.Write(name);
            file.Write(extra);
            file.Write(data);
            if (described)
            {
                var descriptor = new byte[16];
                BinaryPrimitives.WriteUInt32LittleEndian(descriptor, 0x08074b50);
                BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(4), entry.DescriptorCrc ?? crcValue);
                BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(8), (uint)data.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(12), usize);
                file.Write(entry.Descriptor == TestDescriptor.Signed ? descriptor : descriptor[4..]);
            }

            dir.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(dir, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(dir[4..], 0x0314);
            BinaryPrimitives.WriteUInt16LittleEndian(dir[6..], 20);
            BinaryPrimitives.WriteUInt16LittleEndian(dir[8..], flags);
            BinaryPrimitives.WriteUInt16LittleEndian(dir[10..], method);
            BinaryPrimitives.WriteUInt16LittleEndian(dir[12..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(dir[14..], 0x21);
            BinaryPrimitives.WriteUInt32LittleEndian(dir[16..], crcValue);
            BinaryPrimitives.WriteUInt32LittleEndian(dir[20..], (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(dir[24..], usize);
            BinaryPrimitives.WriteUInt16LittleEndian(dir[28..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(dir[38..], 0x81a40000); // -rw-r--r--
            BinaryPrimitives.WriteUInt32LittleEndian(dir[42..], (uint)offset);
            central.Write(dir);
            central.Write(name);
        }

        long centralOffset = file.Position;
        central.Position = 0;
        central.CopyTo(file);

        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], (ushort)count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], (ushort)count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], (uint)central.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], (uint)centralOffset);
        file.Write(end);
    }

    private static byte[] DeflateBytes(byte[] content)
    {
        if (content.Length == 0)
        {
            return [0x03, 0x00]; // an empty final fixed-Huffman block, as zlib and Go write it
        }
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(content);
        }
        return output.ToArray();
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("warren-test-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

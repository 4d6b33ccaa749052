using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Warren.Core.Modules;

namespace Warren.Core.Tests;

public sealed class Crc32Tests
{
    [Fact]
    public void Crc32_gives_the_standard_check_value_whole_and_in_pieces()
    {
        // The CRC-32/ISO-HDLC check value of "123456789".
        Assert.Equal(0xCBF43926u, Crc32.HashToUInt32("123456789"u8));

        var pieces = new Crc32();
        pieces.Append("1234"u8);
        pieces.Append("56789"u8);
        Assert.Equal(0xCBF43926u, pieces.GetCurrentHashAsUInt32());
        Assert.Equal(0u, Crc32.HashToUInt32([]));
    }

    [Fact]
    public void The_zip_reader_checks_entries_against_the_crc_a_standard_writer_recorded()
    {
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("module example.com/m\n", 500)));
        var path = Path.Combine(Path.GetTempPath(), "warren-crc-" + Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            {
                using var entry = zip.CreateEntry("example.com/m@v1.0.0/go.mod").Open();
                entry.Write(content);
            }

            // The writer's CRC (from System.IO.Compression) equals ours, and a reader accepts the entry.
            using (var zip = ZipFile.OpenRead(path))
            {
                Assert.Equal(Crc32.HashToUInt32(content), zip.Entries[0].Crc32);
            }

            using (var reader = ZipReader.Open(path))
            {
                var read = new MemoryStream();
                reader.ReadEntry(reader.Entries[0], new byte[4096], chunk => read.Write(chunk));
                Assert.Equal(content, read.ToArray());
            }

            // One altered byte of the stored CRC in the central directory: the reader refuses the entry.
            var bytes = File.ReadAllBytes(path);
            var central = bytes.AsSpan().LastIndexOf((ReadOnlySpan<byte>)[0x50, 0x4b, 0x01, 0x02]);
            var stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(central + 16));
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(central + 16), stored ^ 1);
            File.WriteAllBytes(path, bytes);
            using (var reader = ZipReader.Open(path))
            {
                var ex = Assert.Throws<InvalidDataException>(() => reader.ReadEntry(reader.Entries[0], new byte[4096], _ => { }));
                Assert.Contains("checksum", ex.Message, StringComparison.OrdinalIgnoreCase);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}

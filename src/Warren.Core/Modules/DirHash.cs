using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Warren.Core.Modules;

/// <summary>The h1: hash of golang.org/x/mod/sumdb/dirhash, as written to go.sum.</summary>
/// <remarks>
/// Hash1 is "h1:" + base64(sha256(summary)), where the summary has one line "hex(sha256(content))  name\n" per file,
/// sorted by name (byte order). Names containing a newline are not supported. Failures (malformed zip, checksum or size
/// mismatch, newline in a name) are reported as <see cref="InvalidDataException"/>; I/O failures as IOException.
/// </remarks>
public static class DirHash
{
    private const string NewlineError = "dirhash: filenames with newlines are not supported";

    /// <summary>dirhash.HashZip with Hash1 over every entry of the zip at zipPath (streamed, never buffered whole).</summary>
    /// <remarks>Every entry name is used as stored, directories included. When a name occurs more than once, every
    /// occurrence is hashed with the content of the last one, as Go does.</remarks>
    public static string HashZip(string zipPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(zipPath);
        using var zip = ZipReader.Open(zipPath);
        var buffer = ArrayPool<byte>.Shared.Rent(ZipReader.BufferSize);
        try
        {
            foreach (var entry in zip.Entries)
            {
                if (entry.NameBytes.AsSpan().Contains((byte)'\n'))
                {
                    throw new InvalidDataException(NewlineError);
                }
            }

            // Go opens files through a name → file map, so the last entry of a name wins.
            var lastByName = new Dictionary<string, ZipEntryInfo>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                lastByName[RawKey(entry.NameBytes)] = entry;
            }

            var sums = new Dictionary<ZipEntryInfo, byte[]>(ReferenceEqualityComparer.Instance);
            foreach (var entry in zip.Entries)
            {
                if (ReferenceEquals(lastByName[RawKey(entry.NameBytes)], entry))
                {
                    sums[entry] = HashEntry(zip, entry, buffer, null, cancellationToken);
                }
            }

            var files = new List<(byte[] Name, byte[] Sum)>(zip.Entries.Count);
            foreach (var entry in zip.Entries)
            {
                files.Add((entry.NameBytes, sums[lastByName[RawKey(entry.NameBytes)]]));
            }
            return Hash1(files);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The go.sum "/go.mod" hash: Hash1 over a single file named "go.mod" with this content.</summary>
    public static string HashGoMod(ReadOnlySpan<byte> goMod)
    {
        var sum = SHA256.HashData(goMod);
        return Hash1([("go.mod"u8.ToArray(), sum)]);
    }

    /// <summary>
    /// dirhash.HashDir: Hash1 over every non-directory file under directory, named prefix + "/" + the slash-separated
    /// relative path (as filepath.Join(prefix, rel) would). Symbolic links are not followed into directories.
    /// </summary>
    public static string HashDir(string directory, string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(prefix);
        var root = new DirectoryInfo(directory);
        if (!root.Exists)
        {
            throw new DirectoryNotFoundException($"directory not found: {directory}");
        }

        var files = new List<(byte[] Name, byte[] Sum)>();
        var buffer = ArrayPool<byte>.Shared.Rent(ZipReader.BufferSize);
        try
        {
            foreach (var (file, relative) in WalkFiles(root, ""))
            {
                string name = JoinSlash(prefix, relative);
                if (name.Contains('\n', StringComparison.Ordinal))
                {
                    throw new InvalidDataException(NewlineError);
                }
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                using (var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
                {
                    int n;
                    while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        hash.AppendData(buffer, 0, n);
                    }
                }
                files.Add((Encoding.UTF8.GetBytes(name), hash.GetHashAndReset()));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return Hash1(files);
    }

    /// <summary>SHA-256 of an entry's content, validated as it streams; optionally also hands every chunk to onChunk.</summary>
    internal static byte[] HashEntry(ZipReader zip, ZipEntryInfo entry, byte[] buffer, Action<ReadOnlySpan<byte>>? onChunk, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        zip.ReadEntry(entry, buffer, chunk =>
        {
            hash.AppendData(chunk);
            onChunk?.Invoke(chunk);
        }, cancellationToken);
        return hash.GetHashAndReset();
    }

    /// <summary>Hash1 over (name, sha256 of content) pairs; names are raw bytes and sorted bytewise (sort.Strings).</summary>
    internal static string Hash1(List<(byte[] Name, byte[] Sum)> files)
    {
        files.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        using var summary = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> hex = stackalloc byte[64];
        foreach (var (name, sum) in files)
        {
            if (name.AsSpan().Contains((byte)'\n'))
            {
                throw new InvalidDataException(NewlineError);
            }
            WriteHexLower(sum, hex);
            summary.AppendData(hex);
            summary.AppendData("  "u8);
            summary.AppendData(name);
            summary.AppendData("\n"u8);
        }
        return "h1:" + Convert.ToBase64String(summary.GetHashAndReset());
    }

    private static void WriteHexLower(ReadOnlySpan<byte> sum, Span<byte> hex)
    {
        const string digits = "0123456789abcdef";
        for (int i = 0; i < sum.Length; i++)
        {
            hex[2 * i] = (byte)digits[sum[i] >> 4];
            hex[(2 * i) + 1] = (byte)digits[sum[i] & 0xf];
        }
    }

    /// <summary>A string key that is equal exactly when the raw name bytes are equal.</summary>
    private static string RawKey(byte[] name) => Encoding.Latin1.GetString(name);

    private static string JoinSlash(string prefix, string relative)
    {
        // filepath.Join(prefix, rel) then ToSlash; prefix is typically "module@version".
        string p = prefix.Replace('\\', '/').TrimEnd('/');
        return p.Length == 0 ? relative : p + "/" + relative;
    }

    private static IEnumerable<(FileInfo File, string Relative)> WalkFiles(DirectoryInfo dir, string relative)
    {
        // Lexical order like filepath.Walk (the final order comes from the sort in Hash1 anyway).
        var children = dir.GetFileSystemInfos();
        Array.Sort(children, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var child in children)
        {
            string rel = relative.Length == 0 ? child.Name : relative + "/" + child.Name;
            if (child is DirectoryInfo sub && child.LinkTarget is null)
            {
                foreach (var item in WalkFiles(sub, rel))
                {
                    yield return item;
                }
            }
            else if (child is FileInfo file)
            {
                yield return (file, rel);
            }
            else
            {
                // A symbolic link to a directory: filepath.Walk lists it as a file, and opening it then fails.
                yield return (new FileInfo(child.FullName), rel);
            }
        }
    }
}

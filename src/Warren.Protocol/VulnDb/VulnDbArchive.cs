using System.IO.Compression;
using System.Text.Json;
using Warren.Core.Vulns;

namespace Warren.Protocol.VulnDb;

/// <summary>Bounds on a copy of the vulnerability database (every copy is read whole into memory).</summary>
public sealed record VulnDbLimits(int MaxEntries, long MaxTotalBytes, int MaxIndexBytes)
{
    /// <summary>vuln.go.dev holds a few thousand entries and some tens of megabytes: ten times that.</summary>
    public static VulnDbLimits Default { get; } = new(50_000, 512L * 1024 * 1024, 64 * 1024 * 1024);
}

/// <summary>A copy of the database as a zip in the layout vuln.go.dev publishes as vulndb.zip: the current layout at
/// the root of the archive (index/db.json, index/modules.json, index/vulns.json, ID/ID.json). Reading takes the entries
/// under ID/ and the modification time of index/db.json (the other indexes are derived again); a single top directory
/// holding that layout is accepted too.</summary>
public static class VulnDbArchive
{
    /// <summary>The file name Warren keeps and exchanges the database under.</summary>
    public const string FileName = "vulndb.zip";

    /// <summary>Reads a zip; <see cref="OsvFormatException"/> (one line) when it is not a database or over the limits.</summary>
    public static VulnDbSnapshot Read(Stream zip, VulnDbLimits limits)
    {
        ArgumentNullException.ThrowIfNull(zip);
        ArgumentNullException.ThrowIfNull(limits);
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new OsvFormatException("not a zip archive: " + e.Message.ReplaceLineEndings(" "));
        }

        using (archive)
        {
            var prefix = FindPrefix(archive);
            DateTimeOffset? modified = null;
            var entries = new List<Advisory>();
            long total = 0;
            foreach (var item in archive.Entries)
            {
                if (!item.FullName.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var name = item.FullName[prefix.Length..];
                if (name == "index/db.json")
                {
                    modified = ParseDbJson(ReadEntry(item, limits.MaxIndexBytes));
                    continue;
                }

                if (!name.StartsWith("ID/", StringComparison.Ordinal) || !name.EndsWith(".json", StringComparison.Ordinal) || name == "ID/index.json" ||
                    name.IndexOf('/', 3) >= 0)
                {
                    continue;
                }

                if (entries.Count >= limits.MaxEntries)
                {
                    throw new OsvFormatException($"more than {limits.MaxEntries} entries");
                }

                var body = ReadEntry(item, OsvReader.MaxEntryBytes);
                total += body.Length;
                if (total > limits.MaxTotalBytes)
                {
                    throw new OsvFormatException($"the entries exceed {limits.MaxTotalBytes} bytes");
                }

                var entry = ParseEntry(body, name);
                var expected = name["ID/".Length..^".json".Length];
                if (entry.Id != expected)
                {
                    throw new OsvFormatException($"{name} holds entry {VulnDbSnapshot.Printable(entry.Id)}");
                }

                entries.Add(entry);
            }

            if (modified is null && entries.Count == 0)
            {
                throw new OsvFormatException("no index/db.json and no ID/*.json entries: not a vulnerability database (want the layout of vuln.go.dev's vulndb.zip)");
            }

            return new VulnDbSnapshot(entries, modified ?? (entries.Count == 0 ? DateTimeOffset.UnixEpoch : entries.Max(e => e.Modified)));
        }
    }

    /// <summary>Writes the snapshot as a zip in the current layout (index/db.json, index/modules.json, index/vulns.json, ID/ID.json).</summary>
    public static void Write(VulnDbSnapshot snapshot, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        using var archive = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        var stamp = snapshot.Modified;
        foreach (var path in new[] { "index/db.json", "index/modules.json", "index/vulns.json" }.Concat(snapshot.Entries.Select(e => "ID/" + e.Id + ".json")))
        {
            snapshot.TryGetFile(path, out var body);
            var item = archive.CreateEntry(path, CompressionLevel.Optimal);
            item.LastWriteTime = stamp < new DateTimeOffset(1980, 1, 2, 0, 0, 0, TimeSpan.Zero) ? new DateTimeOffset(1980, 1, 2, 0, 0, 0, TimeSpan.Zero) : stamp;
            using var s = item.Open();
            s.Write(body);
        }
    }

    /// <summary>Writes the snapshot to a file atomically (a temporary file beside it, flushed, then renamed over it).</summary>
    public static void WriteFile(VulnDbSnapshot snapshot, string path)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Write(snapshot, file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>The "modified" of an index/db.json.</summary>
    public static DateTimeOffset ParseDbJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("modified", out var m) &&
                m.ValueKind == JsonValueKind.String && m.TryGetDateTimeOffset(out var modified))
            {
                return modified;
            }
        }
        catch (JsonException)
        {
        }

        throw new OsvFormatException("index/db.json: want {\"modified\": \"RFC 3339 time\"}");
    }

    /// <summary>The (id, modified) pairs of an index/vulns.json.</summary>
    public static IReadOnlyList<(string Id, DateTimeOffset Modified)> ParseVulnsJson(ReadOnlySpan<byte> json, int maxEntries)
    {
        var list = new List<(string, DateTimeOffset)>();
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new OsvFormatException("index/vulns.json: want a JSON array");
            }

            foreach (var item in doc.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String ||
                    !item.TryGetProperty("modified", out var m) || m.ValueKind != JsonValueKind.String || !m.TryGetDateTimeOffset(out var modified))
                {
                    throw new OsvFormatException("index/vulns.json: an item lacks \"id\" or an RFC 3339 \"modified\"");
                }

                var text = id.GetString()!;
                if (!VulnDbSnapshot.IsValidId(text))
                {
                    throw new OsvFormatException($"index/vulns.json: \"{VulnDbSnapshot.Printable(text)}\" is not an entry ID");
                }

                if (list.Count >= maxEntries)
                {
                    throw new OsvFormatException($"index/vulns.json: more than {maxEntries} entries");
                }

                list.Add((text, modified));
            }
        }
        catch (JsonException e)
        {
            throw new OsvFormatException("index/vulns.json: not JSON: " + e.Message.ReplaceLineEndings(" "));
        }

        return list;
    }

    /// <summary>Parses one entry; the message names the file.</summary>
    public static Advisory ParseEntry(byte[] body, string name)
    {
        try
        {
            return OsvReader.Parse(body);
        }
        catch (OsvFormatException e)
        {
            throw new OsvFormatException($"{name}: {e.Message}");
        }
    }

    private static string FindPrefix(ZipArchive archive)
    {
        if (archive.Entries.Any(e => e.FullName is "index/db.json" || e.FullName.StartsWith("ID/", StringComparison.Ordinal)))
        {
            return "";
        }

        // One top directory holding the layout (an archive of the directory rather than of its contents).
        var db = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("/index/db.json", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 2);
        return db is null ? "" : db.FullName[..^"index/db.json".Length];
    }

    private static byte[] ReadEntry(ZipArchiveEntry item, int max)
    {
        if (item.Length > max)
        {
            throw new OsvFormatException($"{item.FullName} is {item.Length} bytes, over the limit of {max}");
        }

        using var s = item.Open();
        using var buffer = new MemoryStream((int)item.Length);
        var chunk = new byte[81920];
        int n;
        while ((n = s.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + n > max)
            {
                throw new OsvFormatException($"{item.FullName} is over the limit of {max} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Warren.Storage;

/// <summary>One bundle carried into (or out of) a store: what, when, the outcome and its counts.</summary>
/// <param name="Kind">"import" (a bundle), "import-vulndb" (a vulndb.zip) or "export".</param>
/// <param name="Source">The bundle's path or name as given (never a credential: bundles are local files).</param>
/// <param name="At">When it finished.</param>
/// <param name="Succeeded">False when it was refused or failed.</param>
/// <param name="Stored">Versions (or entries) stored.</param>
/// <param name="Present">Versions already there.</param>
/// <param name="Refused">Versions refused.</param>
/// <param name="Bytes">Bytes stored.</param>
/// <param name="Detail">A one-line note: the first problem of a refused bundle, the database's modified time.</param>
public sealed record BundleJournalEntry(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("succeeded")] bool Succeeded,
    [property: JsonPropertyName("stored")] int Stored,
    [property: JsonPropertyName("present")] int Present,
    [property: JsonPropertyName("refused")] int Refused,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("detail")] string? Detail);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(List<BundleJournalEntry>))]
internal sealed partial class BundleJournalJsonContext : JsonSerializerContext;

/// <summary>ROOT/.warren/bundles.json: the last <see cref="MaxEntries"/> imports into a store, newest last. Rewritten
/// whole (temporary file, then rename, mode 600) by whoever imports; read by the server's console. A missing or
/// unreadable journal reads as empty: it is a record for people, never an input to anything else.</summary>
public static class BundleJournal
{
    /// <summary>Entries kept; older ones are dropped.</summary>
    public const int MaxEntries = 100;

    /// <summary>The largest journal read (entries are one-line; 100 of them are far below this).</summary>
    public const long MaxBytes = 1 << 20;

    public const string FileName = "bundles.json";

    /// <summary>The journal of the file store (or state directory) at root.</summary>
    public static string PathUnder(string root) => System.IO.Path.Combine(System.IO.Path.GetFullPath(root), StoreLayout.StateDirectory, FileName);

    /// <summary>The entries, oldest first; empty when there is no journal or it cannot be read.</summary>
    public static IReadOnlyList<BundleJournalEntry> Read(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxBytes)
            {
                return [];
            }

            return JsonSerializer.Deserialize(File.ReadAllBytes(path), BundleJournalJsonContext.Default.ListBundleJournalEntry) ?? [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return [];
        }
    }

    /// <summary>Adds an entry (dropping the oldest beyond <see cref="MaxEntries"/>) and rewrites the journal atomically.
    /// Not safe against a concurrent append by another process: imports into one store hold its store lock.</summary>
    public static void Append(string path, BundleJournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var entries = Read(path).ToList();
        entries.Add(entry with { Detail = entry.Detail?.ReplaceLineEndings(" ") });
        if (entries.Count > MaxEntries)
        {
            entries.RemoveRange(0, entries.Count - MaxEntries);
        }

        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full)!;
        PrivateFiles.CreateDirectory(directory);
        var temp = System.IO.Path.Combine(directory, "." + FileName + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var stream = PrivateFiles.OpenPrivate(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, entries, BundleJournalJsonContext.Default.ListBundleJournalEntry);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}

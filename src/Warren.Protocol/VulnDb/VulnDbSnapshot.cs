using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Warren.Core.Modules;
using Warren.Core.Vulns;

namespace Warren.Protocol.VulnDb;

/// <summary>One immutable copy of the Go vulnerability database: its entries and every file Warren serves from them,
/// in the current layout (index/db.json, index/modules.json, index/vulns.json, ID/ID.json) and in the layout that
/// govulncheck builds from early 2023 read (index.json, MODULE.json with the escaped module path, ID/index.json,
/// aliases.json). Every file is also offered gzip-compressed under NAME.gz.</summary>
public sealed partial class VulnDbSnapshot
{
    private readonly FrozenDictionary<string, Advisory> _byId;
    private readonly FrozenDictionary<string, Advisory[]> _byModule;
    private readonly ConcurrentDictionary<string, byte[]> _derived = new(StringComparer.Ordinal);

    public VulnDbSnapshot(IEnumerable<Advisory> entries, DateTimeOffset modified)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var byId = new Dictionary<string, Advisory>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!IsValidId(entry.Id))
            {
                throw new OsvFormatException($"\"{Printable(entry.Id)}\" is not a database entry ID (want e.g. GO-2023-1234)");
            }

            if (!byId.TryAdd(entry.Id, entry))
            {
                throw new OsvFormatException($"{entry.Id} appears twice");
            }
        }

        Entries = [.. byId.Values.OrderBy(e => e.Id, StringComparer.Ordinal)];
        _byId = byId.ToFrozenDictionary(StringComparer.Ordinal);
        _byModule = Entries
            .SelectMany(e => e.Affected.Select(a => a.ModulePath).Distinct(StringComparer.Ordinal).Select(m => (Module: m, Entry: e)))
            .GroupBy(x => x.Module, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(x => x.Entry).ToArray(), StringComparer.Ordinal);
        Modified = modified.ToUniversalTime();
    }

    /// <summary>The entries, ordered by ID.</summary>
    public IReadOnlyList<Advisory> Entries { get; }

    /// <summary>The database's modification time (index/db.json).</summary>
    public DateTimeOffset Modified { get; }

    /// <summary>The module paths the entries name (with "stdlib" and "toolchain" when present), ordered.</summary>
    public IEnumerable<string> Modules => _byModule.Keys.Order(StringComparer.Ordinal);

    public bool TryGetEntry(string id, out Advisory entry) => _byId.TryGetValue(id, out entry!);

    /// <summary>The entries that name the module path in an affected item.</summary>
    public IReadOnlyList<Advisory> ForModule(string modulePath) => _byModule.TryGetValue(modulePath, out var list) ? list : [];

    /// <summary>The database entry IDs Warren accepts (GO-YYYY-NNNN, and the same shape with another prefix).</summary>
    public static bool IsValidId(string id) => id is { Length: <= 64 } && IdPattern().IsMatch(id);

    [GeneratedRegex(@"^[A-Z][A-Z0-9]{0,15}-[0-9]{4}-[0-9]{4,12}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    /// <summary>The file at a path relative to the database root ("index/db.json", "ID/GO-2023-0001.json.gz",
    /// "github.com/!burnt!sushi/toml.json", …); false when the database has no such file.</summary>
    public bool TryGetFile(string path, out byte[] body)
    {
        body = [];
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            var plain = path[..^3];
            if (!TryGetFile(plain, out var uncompressed))
            {
                return false;
            }

            body = _derived.GetOrAdd(path, static (_, b) => Gzip(b), uncompressed);
            return true;
        }

        if (!path.EndsWith(".json", StringComparison.Ordinal))
        {
            return false;
        }

        switch (path)
        {
            case "index/db.json":
                body = _derived.GetOrAdd(path, _ => DbJson());
                return true;
            case "index/modules.json":
                body = _derived.GetOrAdd(path, _ => ModulesJson());
                return true;
            case "index/vulns.json":
                body = _derived.GetOrAdd(path, _ => VulnsJson());
                return true;
            case "index.json":
                body = _derived.GetOrAdd(path, _ => LegacyIndexJson());
                return true;
            case "ID/index.json":
                body = _derived.GetOrAdd(path, _ => LegacyIdIndexJson());
                return true;
            case "aliases.json":
                body = _derived.GetOrAdd(path, _ => LegacyAliasesJson());
                return true;
        }

        if (path.StartsWith("ID/", StringComparison.Ordinal))
        {
            var id = path["ID/".Length..^".json".Length];
            if (_byId.TryGetValue(id, out var entry))
            {
                body = entry.RawJson;
                return true;
            }

            return false;
        }

        // The early-2023 layout: the escaped module path, then ".json": a JSON array of the module's entries.
        if (!ModulePath.TryUnescapePath(path[..^".json".Length], out var module, out _) && path != "stdlib.json" && path != "toolchain.json")
        {
            return false;
        }

        if (path is "stdlib.json" or "toolchain.json")
        {
            module = path[..^".json".Length];
        }

        if (!_byModule.TryGetValue(module, out var entries))
        {
            return false;
        }

        body = _derived.GetOrAdd(path, _ => JsonArrayOf(entries));
        return true;
    }

    /// <summary>The path of the early-2023 layout's file for a module (escaped path + ".json").</summary>
    public static string LegacyModuleFile(string modulePath) =>
        (ModulePath.TryEscapePath(modulePath, out var escaped, out _) ? escaped : modulePath) + ".json";

    /// <summary>RFC 3339 in UTC, seconds and (when not zero) their fraction, as the database writes times.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>The latest "fixed" version of the module among an entry's ranges, without the "v" (as index/modules.json
    /// writes it); null when no range has a fix.</summary>
    public static string? LatestFixed(Advisory entry, string modulePath)
    {
        string? best = null;
        foreach (var affected in entry.For(modulePath))
        {
            foreach (var range in affected.Ranges)
            {
                foreach (var e in range.Events)
                {
                    if (e.Kind == RangeEventKind.Fixed && SemVer.IsValid(e.Version) && (best is null || SemVer.Compare(e.Version, best) > 0))
                    {
                        best = e.Version;
                    }
                }
            }
        }

        return best is null ? null : best.TrimStart('v');
    }

    private byte[] DbJson() => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("modified", FormatTime(Modified));
        w.WriteEndObject();
    });

    private byte[] ModulesJson() => Write(w =>
    {
        w.WriteStartArray();
        foreach (var module in Modules)
        {
            w.WriteStartObject();
            w.WriteString("path", module);
            w.WriteStartArray("vulns");
            foreach (var entry in _byModule[module])
            {
                w.WriteStartObject();
                w.WriteString("id", entry.Id);
                w.WriteString("modified", FormatTime(entry.Modified));
                if (LatestFixed(entry, module) is { } fixedVersion)
                {
                    w.WriteString("fixed", fixedVersion);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    private byte[] VulnsJson() => Write(w =>
    {
        w.WriteStartArray();
        foreach (var entry in Entries)
        {
            w.WriteStartObject();
            w.WriteString("id", entry.Id);
            w.WriteString("modified", FormatTime(entry.Modified));
            w.WriteStartArray("aliases");
            foreach (var alias in entry.Aliases)
            {
                w.WriteStringValue(alias);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    /// <summary>index.json of the early-2023 layout: module path → the latest modification time of its entries.</summary>
    private byte[] LegacyIndexJson() => Write(w =>
    {
        w.WriteStartObject();
        foreach (var module in Modules)
        {
            w.WriteString(module, FormatTime(_byModule[module].Max(e => e.Modified)));
        }

        w.WriteEndObject();
    });

    /// <summary>ID/index.json of the early-2023 layout: every entry ID.</summary>
    private byte[] LegacyIdIndexJson() => Write(w =>
    {
        w.WriteStartArray();
        foreach (var entry in Entries)
        {
            w.WriteStringValue(entry.Id);
        }

        w.WriteEndArray();
    });

    /// <summary>aliases.json of the early-2023 layout: alias (CVE, GHSA) → the IDs of the entries that carry it.</summary>
    private byte[] LegacyAliasesJson() => Write(w =>
    {
        w.WriteStartObject();
        foreach (var group in Entries.SelectMany(e => e.Aliases.Select(a => (Alias: a, e.Id))).GroupBy(x => x.Alias, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            w.WriteStartArray(group.Key);
            foreach (var id in group.Select(x => x.Id).Distinct(StringComparer.Ordinal))
            {
                w.WriteStringValue(id);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    });

    /// <summary>A JSON array of entries, each exactly as read.</summary>
    private static byte[] JsonArrayOf(IReadOnlyList<Advisory> entries)
    {
        using var buffer = new MemoryStream();
        buffer.WriteByte((byte)'[');
        for (var i = 0; i < entries.Count; i++)
        {
            if (i > 0)
            {
                buffer.WriteByte((byte)',');
            }

            buffer.Write(entries[i].RawJson.AsSpan().Trim("\r\n\t "u8));
        }

        buffer.WriteByte((byte)']');
        return buffer.ToArray();
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    private static byte[] Gzip(byte[] body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(body);
        }

        return buffer.ToArray();
    }

    /// <summary>At most 80 characters, control and non-ASCII characters as "?".</summary>
    public static string Printable(string s)
    {
        var b = new StringBuilder();
        foreach (var c in s.Length > 80 ? s[..80] : s)
        {
            b.Append(c is < ' ' or > '~' ? '?' : c);
        }

        return b.ToString();
    }
}

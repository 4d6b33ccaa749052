using System.Globalization;
using System.Text.Json;
using Warren.Core.Modules;

namespace Warren.Core.Vulns;

/// <summary>An OSV entry that cannot be read; the message is one line.</summary>
public sealed class OsvFormatException(string message) : FormatException(message);

/// <summary>Reads OSV entries of the Go vulnerability database. Versions in ranges are written without the "v" prefix
/// ("1.2.3", "0"); they are returned in Go form ("v1.2.3", <see cref="RangeEvent.Zero"/>). Ranges of types other than
/// SEMVER and events other than introduced/fixed are ignored, as the go vulnerability client ignores them.</summary>
public static class OsvReader
{
    /// <summary>The largest entry read.</summary>
    public const int MaxEntryBytes = 4 * 1024 * 1024;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32 };

    public static Advisory Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxEntryBytes)
        {
            throw new OsvFormatException($"the entry is {utf8Json.Length} bytes, over the limit of {MaxEntryBytes}");
        }

        var raw = utf8Json.ToArray();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(raw, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new OsvFormatException($"not JSON: {OneLine(e.Message)}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new OsvFormatException("an entry must be a JSON object");
            }

            var id = RequiredString(root, "id");
            var advisory = new Advisory(
                id,
                RequiredTime(root, "modified", id),
                OptionalTime(root, "published", id),
                OptionalTime(root, "withdrawn", id),
                StringArray(root, "aliases", id),
                OptionalString(root, "summary", id) ?? "",
                OptionalString(root, "details", id) ?? "",
                ReadAffected(root, id))
            {
                RawJson = raw,
            };
            return advisory;
        }
    }

    private static List<AffectedModule> ReadAffected(JsonElement root, string id)
    {
        var result = new List<AffectedModule>();
        if (!root.TryGetProperty("affected", out var affected) || affected.ValueKind == JsonValueKind.Null)
        {
            return result;
        }

        if (affected.ValueKind != JsonValueKind.Array)
        {
            throw new OsvFormatException($"{id}: \"affected\" must be an array");
        }

        foreach (var entry in affected.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object)
            {
                throw new OsvFormatException($"{id}: an \"affected\" item must be an object");
            }

            if (!entry.TryGetProperty("package", out var package) || package.ValueKind != JsonValueKind.Object)
            {
                throw new OsvFormatException($"{id}: an \"affected\" item has no \"package\"");
            }

            var module = RequiredString(package, "name", id);
            result.Add(new AffectedModule(module, ReadRanges(entry, id, module), ReadPackages(entry, id)));
        }

        return result;
    }

    private static List<AffectedRange> ReadRanges(JsonElement entry, string id, string module)
    {
        var ranges = new List<AffectedRange>();
        if (!entry.TryGetProperty("ranges", out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return ranges;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new OsvFormatException($"{id}: \"ranges\" of {module} must be an array");
        }

        foreach (var range in array.EnumerateArray())
        {
            if (range.ValueKind != JsonValueKind.Object || OptionalString(range, "type", id) != "SEMVER")
            {
                continue;
            }

            var events = new List<RangeEvent>();
            if (range.TryGetProperty("events", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in list.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Object)
                    {
                        throw new OsvFormatException($"{id}: a range event of {module} must be an object");
                    }

                    if (OptionalString(e, "introduced", id) is { } introduced)
                    {
                        events.Add(new RangeEvent(RangeEventKind.Introduced, GoVersion(introduced, id, module, zeroAllowed: true)));
                    }
                    else if (OptionalString(e, "fixed", id) is { } fixedAt)
                    {
                        events.Add(new RangeEvent(RangeEventKind.Fixed, GoVersion(fixedAt, id, module, zeroAllowed: false)));
                    }
                }
            }

            ranges.Add(new AffectedRange(events));
        }

        return ranges;
    }

    private static List<AffectedPackage> ReadPackages(JsonElement entry, string id)
    {
        var packages = new List<AffectedPackage>();
        if (!entry.TryGetProperty("ecosystem_specific", out var specific) || specific.ValueKind != JsonValueKind.Object ||
            !specific.TryGetProperty("imports", out var imports) || imports.ValueKind != JsonValueKind.Array)
        {
            return packages;
        }

        foreach (var import in imports.EnumerateArray())
        {
            if (import.ValueKind != JsonValueKind.Object)
            {
                throw new OsvFormatException($"{id}: an \"imports\" item must be an object");
            }

            packages.Add(new AffectedPackage(
                RequiredString(import, "path", id),
                StringArray(import, "symbols", id),
                StringArray(import, "goos", id),
                StringArray(import, "goarch", id)));
        }

        return packages;
    }

    private static string GoVersion(string osv, string id, string module, bool zeroAllowed)
    {
        if (zeroAllowed && osv == "0")
        {
            return RangeEvent.Zero;
        }

        var go = "v" + osv;
        if (!SemVer.IsValid(go))
        {
            throw new OsvFormatException($"{id}: \"{osv}\" in the ranges of {module} is not a semantic version");
        }

        return go;
    }

    private static string RequiredString(JsonElement element, string name, string? id = null) =>
        OptionalString(element, name, id) is { Length: > 0 } value
            ? value
            : throw new OsvFormatException($"{(id is null ? "" : id + ": ")}\"{name}\" is missing or empty");

    private static string? OptionalString(JsonElement element, string name, string? id)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new OsvFormatException($"{(id is null ? "" : id + ": ")}\"{name}\" must be a string");
    }

    private static DateTimeOffset RequiredTime(JsonElement element, string name, string id) =>
        OptionalTime(element, name, id) ?? throw new OsvFormatException($"{id}: \"{name}\" is missing");

    private static DateTimeOffset? OptionalTime(JsonElement element, string name, string id)
    {
        if (OptionalString(element, name, id) is not { } text)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new OsvFormatException($"{id}: \"{name}\" is not an RFC 3339 time: {OneLine(text)}");
    }

    private static List<string> StringArray(JsonElement element, string name, string id)
    {
        var result = new List<string>();
        if (!element.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return result;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new OsvFormatException($"{id}: \"{name}\" must be an array of strings");
        }

        foreach (var item in array.EnumerateArray())
        {
            result.Add(item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw new OsvFormatException($"{id}: \"{name}\" must be an array of strings"));
        }

        return result;
    }

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= 200 ? line : line[..200] + "…";
    }
}

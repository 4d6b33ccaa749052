using System.Buffers;
using System.Globalization;
using System.Text;

namespace Warren.Core.Modules;

/// <summary>The outcome of checking a module zip against the rules of golang.org/x/mod/zip.</summary>
/// <param name="Error">null when the zip is acceptable, else the reason (Go's wording; several invalid files are
/// reported one per line).</param>
/// <param name="GoMod">The content of "path@version/go.mod" when the zip has one (and is valid).</param>
/// <param name="UncompressedSize">Total declared uncompressed size of the module's files (directories excluded).</param>
/// <param name="FileCount">Number of files (directory entries excluded).</param>
public sealed record ZipCheckResult(string? Error, byte[]? GoMod, long UncompressedSize, int FileCount)
{
    public bool IsValid => Error is null;

    /// <summary>The h1: hash of the zip (dirhash.HashZip), computed in the same pass; null when the zip is invalid.</summary>
    public string? ZipHash { get; init; }
}

/// <summary>Module zip rules of golang.org/x/mod/zip (what zip.Unzip and the go command accept).</summary>
public static class ModuleZip
{
    public const long MaxZipFile = 500L << 20;
    public const long MaxGoMod = 16L << 20;
    public const long MaxLicense = 16L << 20;

    /// <summary>At most this many invalid files are listed in an error; the rest are counted.</summary>
    private const int MaxReportedErrors = 100;

    /// <summary>Checks the zip at zipPath for module path@version: names under "path@version/", valid file paths, no duplicates
    /// or case-insensitive collisions, size limits. Returns the go.mod bytes at the module root, if present.</summary>
    /// <remarks>
    /// Applies what the go command does to a downloaded zip: zip.CheckZip's rules on names and declared sizes, then a
    /// full read of every entry as zip.Unzip and dirhash.HashZip do (each entry's actual uncompressed size must equal the
    /// declared one, and its CRC-32 must match). A malformed, truncated or corrupt zip gives an Error, not an exception;
    /// only I/O failures (file missing, unreadable) and cancellation throw.
    /// </remarks>
    public static ZipCheckResult Check(string zipPath, string modulePath, string version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(zipPath);
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);

        string canonical = SemVer.Canonical(version);
        if (canonical != version)
        {
            return Fail($"version {GoQuote(version)} is not canonical (should be {GoQuote(canonical)})");
        }
        if (ModuleVersion.Check(modulePath, version) is { } versionError)
        {
            return Fail(versionError);
        }

        long zipSize = new FileInfo(zipPath).Length;
        if (zipSize > MaxZipFile)
        {
            return Fail($"module zip file is too large ({zipSize} bytes; limit is {MaxZipFile} bytes)");
        }

        ZipReader zip;
        try
        {
            zip = ZipReader.Open(zipPath);
        }
        catch (InvalidDataException e)
        {
            return Fail(e.Message);
        }

        using (zip)
        {
            var names = CheckNames(zip, modulePath + "@" + version + "/");
            if (names.Error is not null)
            {
                return Fail(names.Error);
            }
            return ReadContents(zip, names, cancellationToken);
        }
    }

    private sealed record NameCheck(string? Error, ZipEntryInfo? GoMod, long Size, int FileCount);

    /// <summary>zip.CheckZip: names, collisions and declared sizes, without reading any content.</summary>
    private static NameCheck CheckNames(ZipReader zip, string prefix)
    {
        byte[] prefixBytes = Encoding.UTF8.GetBytes(prefix);
        var invalid = new List<string>();
        int invalidCount = 0;
        string? sizeError = null;
        long size = 0;
        int fileCount = 0;
        ZipEntryInfo? goMod = null;
        var collisions = new Dictionary<string, (string Path, bool IsDir)>(StringComparer.Ordinal);

        void AddError(ZipEntryInfo entry, string message)
        {
            invalidCount++;
            if (invalid.Count < MaxReportedErrors)
            {
                invalid.Add($"{entry.Name}: {message}");
            }
        }

        foreach (var entry in zip.Entries)
        {
            if (!entry.NameBytes.AsSpan().StartsWith(prefixBytes))
            {
                AddError(entry, $"path does not have prefix {GoQuote(prefix)}");
                continue;
            }
            if (entry.NameBytes.Length == prefixBytes.Length)
            {
                continue;
            }

            bool isDir = entry.NameBytes[^1] == (byte)'/';
            if (!entry.NameIsValidUtf8)
            {
                var rest = entry.NameBytes.AsSpan(prefixBytes.Length);
                AddError(entry, $"malformed file path {GoQuote(isDir ? rest[..^1] : rest)}: invalid UTF-8");
                continue;
            }

            string name = entry.Name[prefix.Length..];
            if (isDir)
            {
                name = name[..^1];
            }
            if (CleanPath(name) != name)
            {
                AddError(entry, "file path is not clean");
                continue;
            }
            if ((ModulePath.CheckFilePath(name) ?? UnsafeFilePathReason(name)) is { } pathError)
            {
                AddError(entry, $"malformed file path {GoQuote(name)}: {pathError}");
                continue;
            }
            if (CheckCollision(collisions, name, isDir) is { } collision)
            {
                AddError(entry, collision);
                continue;
            }
            if (isDir)
            {
                continue;
            }

            string baseName = name[(name.LastIndexOf('/') + 1)..];
            if (FoldKey(baseName) == "go.mod")
            {
                if (baseName != name)
                {
                    AddError(entry, "go.mod file not in module root directory");
                    continue;
                }
                if (name != "go.mod")
                {
                    AddError(entry, "go.mod files must have lowercase names");
                    continue;
                }
            }

            // Go converts the declared size to int64, so sizes of 2^63 and more count as negative (too large).
            ulong declared = entry.UncompressedSize;
            if (declared <= long.MaxValue && MaxZipFile - size >= (long)declared)
            {
                size += (long)declared;
            }
            else
            {
                sizeError ??= $"total uncompressed size of module contents too large (max size is {MaxZipFile} bytes)";
            }
            if (name == "go.mod" && declared > MaxGoMod)
            {
                AddError(entry, $"go.mod file too large (max size is {MaxGoMod} bytes)");
                continue;
            }
            if (name == "LICENSE" && declared > MaxLicense)
            {
                AddError(entry, $"LICENSE file too large (max size is {MaxLicense} bytes)");
                continue;
            }

            fileCount++;
            if (name == "go.mod")
            {
                goMod = entry;
            }
        }

        if (sizeError is not null)
        {
            return new NameCheck(sizeError, null, size, fileCount);
        }
        if (invalidCount > 0)
        {
            if (invalidCount > invalid.Count)
            {
                invalid.Add($"... and {invalidCount - invalid.Count} more invalid files");
            }
            return new NameCheck(string.Join('\n', invalid), null, size, fileCount);
        }
        return new NameCheck(null, goMod, size, fileCount);
    }

    /// <summary>Reads every entry (sizes and CRC-32 enforced), hashing as dirhash.HashZip and capturing go.mod.</summary>
    private static ZipCheckResult ReadContents(ZipReader zip, NameCheck names, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ZipReader.BufferSize);
        try
        {
            // Duplicate names can only be directories or the bare prefix here; dirhash uses the last entry of a name.
            var lastByName = new Dictionary<string, ZipEntryInfo>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                lastByName[entry.Name] = entry;
            }

            byte[]? goMod = null;
            var sums = new Dictionary<ZipEntryInfo, byte[]>(ReferenceEqualityComparer.Instance);
            foreach (var entry in zip.Entries)
            {
                MemoryStream? capture = ReferenceEquals(entry, names.GoMod) ? new MemoryStream((int)entry.UncompressedSize) : null;
                byte[] sum = DirHash.HashEntry(zip, entry, buffer, capture is null ? null : chunk => capture.Write(chunk), cancellationToken);
                if (capture is not null)
                {
                    goMod = capture.ToArray();
                }
                if (ReferenceEquals(lastByName[entry.Name], entry))
                {
                    sums[entry] = sum;
                }
            }

            var files = new List<(byte[] Name, byte[] Sum)>(zip.Entries.Count);
            foreach (var entry in zip.Entries)
            {
                files.Add((entry.NameBytes, sums[lastByName[entry.Name]]));
            }
            string hash = DirHash.Hash1(files);

            return new ZipCheckResult(null, goMod, names.Size, names.FileCount) { ZipHash = hash };
        }
        catch (InvalidDataException e)
        {
            return Fail(e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ZipCheckResult Fail(string error) => new(error, null, 0, 0);

    /// <summary>zip's collisionChecker: case-insensitive collisions, duplicate files, and paths that are both a file and
    /// a directory, checked for the path and each of its parent directories.</summary>
    internal static string? CheckCollision(Dictionary<string, (string Path, bool IsDir)> seen, string path, bool isDir)
    {
        while (true)
        {
            string fold = FoldKey(path);
            if (seen.TryGetValue(fold, out var other))
            {
                if (path != other.Path)
                {
                    return $"case-insensitive file name collision: {GoQuote(other.Path)} and {GoQuote(path)}";
                }
                if (isDir != other.IsDir)
                {
                    return $"entry {GoQuote(path)} is both a file and a directory";
                }
                if (!isDir)
                {
                    return $"multiple entries for file {GoQuote(path)}";
                }
            }
            else
            {
                seen[fold] = (path, isDir);
            }

            int slash = path.LastIndexOf('/');
            if (slash < 0)
            {
                return null;
            }
            path = path[..slash];
            isDir = true;
        }
    }

    /// <summary>
    /// strToFold: a key such that two strings have equal keys exactly when they are equal under Unicode simple case
    /// folding (strings.EqualFold). Upper-casing then lower-casing each rune yields the same classes as Go's fold orbits,
    /// except for U+017F (long s), which .NET does not case-map and Go folds with 's'.
    /// </summary>
    internal static string FoldKey(string s)
    {
        bool simple = true;
        foreach (char c in s)
        {
            if (c >= 0x80 || c is >= 'A' and <= 'Z')
            {
                simple = false;
                break;
            }
        }
        if (simple)
        {
            return s;
        }

        var sb = new StringBuilder(s.Length);
        foreach (var rune in s.EnumerateRunes())
        {
            var folded = rune.Value == 0x17F ? new Rune('s') : Rune.ToLowerInvariant(Rune.ToUpperInvariant(rune));
            sb.Append(folded.ToString());
        }
        return sb.ToString();
    }

    /// <summary>Go's path.Clean.</summary>
    internal static string CleanPath(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }
        bool rooted = path[0] == '/';
        var parts = new List<string>();
        foreach (string elem in path.Split('/'))
        {
            if (elem.Length == 0 || elem == ".")
            {
                continue;
            }
            if (elem == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..")
                {
                    parts.RemoveAt(parts.Count - 1);
                }
                else if (!rooted)
                {
                    parts.Add("..");
                }
                continue;
            }
            parts.Add(elem);
        }
        string joined = string.Join('/', parts);
        if (rooted)
        {
            return "/" + joined;
        }
        return joined.Length == 0 ? "." : joined;
    }

    /// <summary>
    /// A defensive subset of module.CheckFilePath (same wording), so that names which could escape the extraction
    /// directory or confuse a file system are refused whatever ModulePath.CheckFilePath says: empty or dot-only
    /// elements ("..", leading "/"), double or trailing slashes, backslashes, colons, NUL and other control characters.
    /// </summary>
    internal static string? UnsafeFilePathReason(string path)
    {
        if (path.Length == 0)
        {
            return "empty string";
        }
        if (path.Contains("//", StringComparison.Ordinal))
        {
            return "double slash";
        }
        if (path[^1] == '/')
        {
            return "trailing slash";
        }
        foreach (string elem in path.Split('/'))
        {
            if (elem.Length == 0)
            {
                return "empty path element";
            }
            if (elem.AsSpan().TrimStart('.').IsEmpty)
            {
                return $"invalid path element {GoQuote(elem)}";
            }
            if (elem[^1] == '.')
            {
                return "trailing dot in path element";
            }
            foreach (var rune in elem.EnumerateRunes())
            {
                if (rune.Value < 0x20 || rune.Value == 0x7f || rune.Value == '\\' || rune.Value == ':')
                {
                    return $"invalid char {GoQuoteRune(rune)}";
                }
            }
        }
        return null;
    }

    /// <summary>Go's %q of a string.</summary>
    internal static string GoQuote(string s) => GoQuoting.Quote(s);

    /// <summary>Go's %q of a byte string: invalid UTF-8 bytes become \xNN.</summary>
    internal static string GoQuote(ReadOnlySpan<byte> s) => GoQuoting.Quote(s);

    /// <summary>Go's %q of a rune.</summary>
    internal static string GoQuoteRune(Rune rune) => GoQuoting.QuoteRune(rune.Value);
}

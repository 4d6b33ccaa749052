using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Warren.Core.SumDb;

/// <summary>One go.sum line: module path, version (with a "/go.mod" suffix for the go.mod hash) and hash
/// ("h1:" + base64).</summary>
public sealed record GoSumLine(string Path, string Version, string Hash)
{
    /// <summary>The suffix a version has in the line for a go.mod file's hash.</summary>
    public const string GoModSuffix = "/go.mod";

    /// <summary>Whether this is the hash of the go.mod file rather than of the module zip.</summary>
    public bool IsGoMod => Version.EndsWith(GoModSuffix, StringComparison.Ordinal);

    /// <summary>The module version, without any "/go.mod" suffix.</summary>
    public string ModuleVersion => IsGoMod ? Version[..^GoModSuffix.Length] : Version;

    /// <summary>"path version hash".</summary>
    public override string ToString() => $"{Path} {Version} {Hash}";

    /// <summary>Parses "path version hash": three fields separated by single spaces, none empty, and no other
    /// whitespace or control character.</summary>
    /// <exception cref="FormatException">The line is malformed.</exception>
    public static GoSumLine Parse(string line) =>
        TryParse(line, out var parsed) ? parsed : throw new FormatException($"malformed go.sum line \"{line}\"");

    /// <summary>Parses one line; false if it is malformed.</summary>
    public static bool TryParse([NotNullWhen(true)] string? line, [NotNullWhen(true)] out GoSumLine? parsed)
    {
        parsed = null;
        if (line is null)
        {
            return false;
        }

        var f = line.Split(' ');
        if (f.Length != 3 || f.Any(s => s.Length == 0 || s.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            return false;
        }

        parsed = new GoSumLine(f[0], f[1], f[2]);
        return true;
    }
}

/// <summary>The text of a checksum-database record: the go.sum lines of one module version, normally
/// "path version h1:…\npath version/go.mod h1:…\n".</summary>
public static class GoSumRecord
{
    /// <summary>The record a checksum database stores for a module version: the zip's hash line then the go.mod's.</summary>
    /// <exception cref="ArgumentException">A field is empty or holds whitespace, or the version already ends in
    /// "/go.mod".</exception>
    public static string Format(string path, string version, string zipHash, string goModHash)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.EndsWith(GoSumLine.GoModSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException("the version must not end in /go.mod", nameof(version));
        }

        return Format([new GoSumLine(path, version, zipHash), new GoSumLine(path, version + GoSumLine.GoModSuffix, goModHash)]);
    }

    /// <summary>The record text of the given lines: each line followed by a newline.</summary>
    /// <exception cref="ArgumentException">There is no line, or a field is empty or holds whitespace.</exception>
    public static string Format(IEnumerable<GoSumLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            string s = line.ToString();
            if (!GoSumLine.TryParse(s, out _))
            {
                throw new ArgumentException($"malformed go.sum line \"{s}\"", nameof(lines));
            }

            text.Append(s).Append('\n');
        }

        if (text.Length == 0)
        {
            throw new ArgumentException("a record has at least one line", nameof(lines));
        }

        return text.ToString();
    }

    /// <summary>The record text as UTF-8 bytes: what is hashed into the log.</summary>
    public static byte[] FormatBytes(string path, string version, string zipHash, string goModHash) =>
        Encoding.UTF8.GetBytes(Format(path, version, zipHash, goModHash));

    /// <summary>Parses record text into its lines.</summary>
    /// <exception cref="FormatException">It is not valid record text (see <see cref="LogRecord.IsValidText"/>) or a
    /// line is not "path version hash".</exception>
    public static IReadOnlyList<GoSumLine> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!LogRecord.IsValidText(Encoding.UTF8.GetBytes(text)))
        {
            throw new FormatException("malformed record data");
        }

        return [.. text[..^1].Split('\n').Select(GoSumLine.Parse)];
    }

    /// <summary>The lines of record text for path and version (which may end in "/go.mod"), exactly as the go
    /// command's checksum-database client selects them: every line starting with "path version ".</summary>
    public static IReadOnlyList<string> SelectLines(string text, string path, string version)
    {
        ArgumentNullException.ThrowIfNull(text);
        string prefix = path + " " + version + " ";
        return [.. text.Split('\n').Where(line => line.StartsWith(prefix, StringComparison.Ordinal))];
    }

    /// <summary>The zip and go.mod hashes record text holds for path@version (either null when absent).</summary>
    /// <returns>False, with the problem, when the text is malformed or holds two different hashes of one kind.</returns>
    public static bool TryFindHashes(string text, string path, string version, out string? zipHash, out string? goModHash,
        [NotNullWhen(false)] out string? error)
    {
        zipHash = goModHash = null;
        IReadOnlyList<GoSumLine> lines;
        try
        {
            lines = Parse(text);
        }
        catch (FormatException e)
        {
            error = $"malformed record: {e.Message}";
            return false;
        }

        foreach (var line in lines.Where(l => l.Path == path))
        {
            bool isZip = line.Version == version;
            if (!isZip && line.Version != version + GoSumLine.GoModSuffix)
            {
                continue;
            }

            ref string? slot = ref isZip ? ref zipHash : ref goModHash;
            if (slot is not null && slot != line.Hash)
            {
                error = $"record has conflicting {(isZip ? "zip" : "go.mod")} hashes";
                return false;
            }

            slot = line.Hash;
        }

        error = null;
        return true;
    }
}

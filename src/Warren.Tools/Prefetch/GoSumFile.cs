namespace Warren.Tools.Prefetch;

/// <summary>One go.sum line: "path version h1:…" (the zip) or "path version/go.mod h1:…" (the go.mod only).</summary>
public sealed record GoSumLine(string Path, string Version, bool GoModOnly, string Hash);

/// <summary>Reads go.sum files.</summary>
public static class GoSumFile
{
    /// <summary>The well-formed lines of a go.sum text; blank and malformed lines are skipped (the go command ignores
    /// lines it cannot use as well).</summary>
    public static IReadOnlyList<GoSumLine> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new List<GoSumLine>();
        foreach (var raw in text.Split('\n'))
        {
            var fields = raw.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length != 3)
            {
                continue;
            }

            var (version, goModOnly) = fields[1].EndsWith("/go.mod", StringComparison.Ordinal)
                ? (fields[1][..^"/go.mod".Length], true)
                : (fields[1], false);
            if (version.Length > 0)
            {
                lines.Add(new GoSumLine(fields[0], version, goModOnly, fields[2]));
            }
        }

        return lines;
    }

    /// <summary>The known hashes of a go.sum: (path, version) → zip hash and (path, version) → go.mod hash.</summary>
    public static (Dictionary<ModuleKey, string> Zip, Dictionary<ModuleKey, string> GoMod) Hashes(IEnumerable<GoSumLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var zip = new Dictionary<ModuleKey, string>();
        var goMod = new Dictionary<ModuleKey, string>();
        foreach (var line in lines)
        {
            (line.GoModOnly ? goMod : zip)[new ModuleKey(line.Path, line.Version)] = line.Hash;
        }

        return (zip, goMod);
    }
}

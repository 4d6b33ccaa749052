using System.Text;

namespace Warren.Core.Tests;

/// <summary>One module version of the GOPROXY corpus with the sums the real go client reported.</summary>
internal sealed record CorpusVersion(string Module, string Version, string ZipHash, string GoModHash, string GoModKind, string Root)
{
    private string Base => Path.Combine(Root, GoCorpus.Escape(Module), "@v", GoCorpus.Escape(Version));

    public string ZipPath => Base + ".zip";
    public string ModPath => Base + ".mod";

    public override string ToString() => $"{Module}@{Version}";
}

/// <summary>
/// Locates the corpus (WARREN_CORPUS_DIR, default /tmp/corpus-out) and its manifest (WARREN_CORPUS_MANIFEST, default
/// shared/corpus/manifest.tsv in the folder next to the repository root). A missing corpus is a failure, not a skip.
/// </summary>
internal static class GoCorpus
{
    public const int ExpectedVersions = 262;

    public static IReadOnlyList<CorpusVersion> Load()
    {
        string root = Environment.GetEnvironmentVariable("WARREN_CORPUS_DIR") is { Length: > 0 } dir ? dir : "/tmp/corpus-out";
        Assert.True(Directory.Exists(root),
            $"GOPROXY corpus not found at {root}: build it with shared/corpus/regen.sh (or set WARREN_CORPUS_DIR).");

        string manifest = FindManifest();
        var versions = new List<CorpusVersion>();
        foreach (string line in File.ReadLines(manifest))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            string[] cols = line.Split('\t');
            Assert.True(cols.Length >= 7, $"malformed manifest line: {line}");
            versions.Add(new CorpusVersion(cols[0], cols[1], cols[4], cols[5], cols[6], root));
        }
        Assert.Equal(ExpectedVersions, versions.Count);
        return versions;
    }

    private static string FindManifest()
    {
        if (Environment.GetEnvironmentVariable("WARREN_CORPUS_MANIFEST") is { Length: > 0 } fromEnv)
        {
            Assert.True(File.Exists(fromEnv), $"WARREN_CORPUS_MANIFEST={fromEnv} does not exist");
            return fromEnv;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "corpus", "manifest.tsv");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        Assert.Fail($"shared/corpus/manifest.tsv not found above {AppContext.BaseDirectory} (set WARREN_CORPUS_MANIFEST).");
        return "";
    }

    /// <summary>module.EscapePath / EscapeVersion for valid input: each upper-case letter becomes '!' + lower case.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c is >= 'A' and <= 'Z')
            {
                sb.Append('!').Append((char)(c + ('a' - 'A')));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}

using System.Text;

namespace Warren.Testing;

/// <summary>One module version of the corpus manifest, with the h1 sums the real go client reported and how its go.mod
/// came to be (original, synthesized, ...).</summary>
public sealed record ManifestEntry(string Path, string Version, string ZipHash, string ModHash, string GoModKind)
{
    private string Base => System.IO.Path.Combine(TestPaths.Corpus, Manifest.Escape(Path), "@v", Manifest.Escape(Version));

    /// <summary>The .zip of this version in the corpus GOPROXY tree.</summary>
    public string ZipPath => Base + ".zip";

    /// <summary>The .mod of this version in the corpus GOPROXY tree.</summary>
    public string ModPath => Base + ".mod";

    public override string ToString() => $"{Path}@{Version}";
}

/// <summary>The corpus manifest (<see cref="TestPaths.CorpusManifest"/>), read once.</summary>
public static class Manifest
{
    private static readonly Lazy<IReadOnlyList<ManifestEntry>> Entries = new(Load);

    public static IReadOnlyList<ManifestEntry> All => Entries.Value;

    public static ManifestEntry Get(string path, string version) => All.Single(e => e.Path == path && e.Version == version);

    /// <summary>module.EscapePath / EscapeVersion for valid input: each upper-case letter becomes '!' + lower case.</summary>
    public static string Escape(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
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

    private static List<ManifestEntry> Load()
    {
        var file = TestPaths.CorpusManifest;
        var list = new List<ManifestEntry>();
        foreach (var line in File.ReadLines(file))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var f = line.Split('\t');
            if (f.Length < 7)
            {
                throw new InvalidOperationException($"malformed line in {file}: {line}");
            }

            list.Add(new ManifestEntry(f[0], f[1], f[4], f[5], f[6]));
        }

        return list;
    }
}

namespace Warren.Server.Tests.Infrastructure;

/// <summary>One line of the corpus manifest: the h1 sums the real go client reported.</summary>
public sealed record ManifestEntry(string Path, string Version, string ZipHash, string ModHash);

public static class Manifest
{
    private static readonly Lazy<IReadOnlyList<ManifestEntry>> Entries = new(Load);

    public static IReadOnlyList<ManifestEntry> All => Entries.Value;

    public static ManifestEntry Get(string path, string version) => All.Single(e => e.Path == path && e.Version == version);

    private static List<ManifestEntry> Load()
    {
        var list = new List<ManifestEntry>();
        foreach (var line in File.ReadLines(TestPaths.CorpusManifest))
        {
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            var f = line.Split('\t');
            list.Add(new ManifestEntry(f[0], f[1], f[4], f[5]));
        }

        return list;
    }
}

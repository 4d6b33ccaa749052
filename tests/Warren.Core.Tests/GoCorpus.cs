using Warren.Testing;

namespace Warren.Core.Tests;

/// <summary>The GOPROXY corpus and its manifest (located by Warren.Testing); a missing corpus is a failure, not a skip.</summary>
internal static class GoCorpus
{
    public const int ExpectedVersions = 262;

    public static IReadOnlyList<ManifestEntry> Load()
    {
        _ = TestPaths.Corpus;
        var versions = Manifest.All;
        Assert.Equal(ExpectedVersions, versions.Count);
        return versions;
    }
}

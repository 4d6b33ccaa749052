namespace Warren.Server.Tests.Infrastructure;

/// <summary>Where the real go client, the corpus and the repository are.</summary>
public static class TestPaths
{
    public static string Go => Environment.GetEnvironmentVariable("WARREN_GO") is { Length: > 0 } go ? go : "/usr/lib/go-1.19/bin/go";

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The shared folder beside the repository.</summary>
    public static string Shared => Environment.GetEnvironmentVariable("WARREN_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string CorpusManifest => Environment.GetEnvironmentVariable("WARREN_CORPUS_MANIFEST") is { Length: > 0 } m ? m : Path.Combine(Shared, "corpus", "manifest.tsv");

    /// <summary>The generated file-system GOPROXY tree (built by scripts/test.sh).</summary>
    public static string Corpus
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("WARREN_CORPUS_DIR") is { Length: > 0 } d ? d : "/tmp/corpus-out";
            if (!Directory.Exists(dir) || !File.Exists(Path.Combine(dir, "corpus-manifest.tsv")))
            {
                throw new InvalidOperationException($"corpus not found at {dir}: run scripts/test.sh (it builds it with ../shared/corpus/regen.sh) or set WARREN_CORPUS_DIR");
            }

            return dir;
        }
    }

    public static string ValidateClosed => Path.Combine(Shared, "corpus", "validate", "closed");

    /// <summary>warren.dll, built beside the tests.</summary>
    public static string WarrenDll => Path.Combine(AppContext.BaseDirectory, "warren.dll");

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Warren.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Warren.sln not found above " + AppContext.BaseDirectory);
    }

    public static string NewTempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "warren-tests", prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}

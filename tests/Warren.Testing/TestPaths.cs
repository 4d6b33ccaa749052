namespace Warren.Testing;

/// <summary>Where the repository, the shared folder beside it, the GOPROXY corpus and the real go command are, and
/// scratch directories. Every location can be overridden by an environment variable; a missing prerequisite is a
/// failure that says how to provide it, never a skip.</summary>
public static class TestPaths
{
    /// <summary>The directory holding Warren.sln, found above the test binaries.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>WARREN_SHARED, else the "shared" folder beside the repository root.</summary>
    public static string Shared => Environment.GetEnvironmentVariable("WARREN_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>The real go command: WARREN_GO, else Debian's Go 1.19.</summary>
    public static string Go => Environment.GetEnvironmentVariable("WARREN_GO") is { Length: > 0 } go ? go : "/usr/lib/go-1.19/bin/go";

    /// <summary>The generated file-system GOPROXY tree: WARREN_CORPUS_DIR, else /tmp/corpus-out (scripts/test.sh builds it).</summary>
    public static string Corpus
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("WARREN_CORPUS_DIR") is { Length: > 0 } d ? d : "/tmp/corpus-out";
            if (!Directory.Exists(dir) || !File.Exists(Path.Combine(dir, "corpus-manifest.tsv")))
            {
                throw new InvalidOperationException(
                    $"GOPROXY corpus not found at {dir}: run scripts/test.sh (it builds it with {Path.Combine(Shared, "corpus", "regen.sh")}) or set WARREN_CORPUS_DIR");
            }

            return dir;
        }
    }

    /// <summary>The corpus manifest (the h1 sums the real go client reported): WARREN_CORPUS_MANIFEST, else shared/corpus/manifest.tsv.</summary>
    public static string CorpusManifest => Environment.GetEnvironmentVariable("WARREN_CORPUS_MANIFEST") is { Length: > 0 } m
        ? RequireFile(m, "WARREN_CORPUS_MANIFEST names a file that does not exist")
        : SharedFile("corpus", "manifest.tsv");

    public static string GitServeScript => SharedFile("corpus", "git", "git_serve.py");

    public static string MakeGitReposScript => SharedFile("corpus", "git", "make_git_repos.py");

    /// <summary>What the real go command reported in direct mode for the corpus git repositories.</summary>
    public static string DirectResults => SharedFile("corpus", "git", "direct-results.txt");

    public static string ValidateClosed => Path.Combine(Shared, "corpus", "validate", "closed");

    /// <summary>A file of the shared folder; missing is a failure naming WARREN_SHARED.</summary>
    public static string SharedFile(params string[] parts) =>
        RequireFile(Path.Combine([Shared, .. parts]), "set WARREN_SHARED to the shared folder");

    /// <summary>The go command, which must exist.</summary>
    public static string RequireGo() =>
        RequireFile(Go, "the real go command is needed (Debian: apt-get install golang-1.19-go; or set WARREN_GO)");

    private static readonly Lazy<string> RunRoot = new(CreateRunRoot);

    /// <summary>A new empty directory under $TMPDIR/warren-tests/run-PID, which is deleted when this process exits
    /// (module caches, stores and repositories of a full run take gigabytes).</summary>
    public static string NewTempDir(string prefix)
    {
        var dir = Path.Combine(RunRoot.Value, prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Creates this process's directory, first removing what earlier runs left behind (directories of
    /// processes that are gone), and arranges for it to be deleted at exit.</summary>
    private static string CreateRunRoot()
    {
        var parent = Path.Combine(Path.GetTempPath(), "warren-tests");
        Directory.CreateDirectory(parent);
        foreach (var old in Directory.EnumerateDirectories(parent))
        {
            var name = Path.GetFileName(old);
            bool stale = name.StartsWith("run-", StringComparison.Ordinal)
                ? !int.TryParse(name.AsSpan(4), out var pid) || !Directory.Exists("/proc/" + pid)
                : Directory.GetLastWriteTimeUtc(old) < DateTime.UtcNow.AddHours(-1);
            if (stale)
            {
                TryDeleteDirectory(old);
            }
        }

        var root = Path.Combine(parent, "run-" + Environment.ProcessId);
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDeleteDirectory(root);
        return root;
    }

    /// <summary>Deletes a directory tree, making read-only directories (the go module cache) writable first; failures are ignored.</summary>
    public static void TryDeleteDirectory(string dir)
    {
        try
        {
            if (!Directory.Exists(dir))
            {
                return;
            }

            if (!OperatingSystem.IsWindows())
            {
                foreach (var d in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories))
                {
                    File.SetUnixFileMode(d, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string RequireFile(string path, string hint) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{path} not found: {hint}");

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Warren.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Warren.sln not found above " + AppContext.BaseDirectory);
    }
}

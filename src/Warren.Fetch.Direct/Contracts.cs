namespace Warren.Fetch.Direct;

/// <summary>What a direct fetch said. Messages are one line, safe to show a client (never a credential).</summary>
public enum DirectStatus
{
    Ok,

    /// <summary>Unknown revision, invalid version, no such repository, or refused credentials: the go command's "not found" (404/410).</summary>
    NotFound,

    /// <summary>Infrastructure failure (git or HTTP failed, unreachable host): 502.</summary>
    Failed,

    /// <summary>A time limit was reached: 504.</summary>
    Timeout,
}

public sealed record DirectResult(DirectStatus Status, string Message)
{
    public static readonly DirectResult Success = new(DirectStatus.Ok, "");

    public static DirectResult NotFound(string message) => new(DirectStatus.NotFound, message);

    public static DirectResult Failed(string message) => new(DirectStatus.Failed, message);

    public static DirectResult TimedOut(string message) => new(DirectStatus.Timeout, message);
}

/// <summary>Where the code of a module path lives (cmd/go/internal/vcs RepoRoot).</summary>
/// <param name="Root">The import-path prefix that is the repository root ("github.com/pkg/errors", "golang.org/x/sync").</param>
/// <param name="Vcs">"git", or "mod" when the prefix is served by the GOPROXY at <paramref name="Url"/>; other systems are reported unsupported.</param>
/// <param name="Url">The repository URL (for git) or proxy base URL (for mod).</param>
public sealed record RepoRoot(string Root, string Vcs, string Url);

/// <summary>A commit as the go command describes it: full hash and commit time (UTC).</summary>
public sealed record CommitInfo(string Hash, DateTimeOffset Time);

/// <summary>A git ref name and the commit it names (annotated tags already peeled).</summary>
public sealed record GitRef(string Name, string Hash);

/// <summary>Read access to a local (bare) git repository through the git CLI; implemented over a directory kept fresh by the mirror manager.</summary>
public interface IGitRepository
{
    /// <summary>The local git directory.</summary>
    string GitDirectory { get; }

    /// <summary>Brings the local copy up to date with the origin (incremental fetch; at most once per freshness window unless forced).</summary>
    Task<DirectResult> RefreshAsync(bool force, CancellationToken cancellationToken);

    /// <summary>Tags and branches ("refs/tags/v1.0.0", "refs/heads/main") with the commits they name, and HEAD's target.</summary>
    Task<(IReadOnlyList<GitRef> Refs, string? HeadBranch)> ListRefsAsync(CancellationToken cancellationToken);

    /// <summary>Resolves a tag, branch, full hash or hash prefix to a commit; null when unknown locally.</summary>
    Task<CommitInfo?> ResolveAsync(string rev, CancellationToken cancellationToken);

    /// <summary>The content of a file at a commit, or null if absent (not a regular file counts as absent).</summary>
    Task<byte[]?> ReadFileAsync(string commit, string path, long maxBytes, CancellationToken cancellationToken);

    /// <summary>Writes `git archive --format=zip` of the commit's subdirectory (the go command's exact invocation) to destination.</summary>
    Task WriteArchiveAsync(string commit, string subdirectory, string destination, CancellationToken cancellationToken);

    /// <summary>Tags (full ref names) whose commits are ancestors of (merged into) the commit.</summary>
    Task<IReadOnlyList<string>> TagsMergedIntoAsync(string commit, CancellationToken cancellationToken);
}

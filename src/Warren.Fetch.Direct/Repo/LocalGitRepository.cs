using Warren.Core.Modules;
using System.Globalization;
using System.Text;

namespace Warren.Fetch.Direct.Repo;

/// <summary>
/// Read access to a local git directory (bare or not) through the git CLI, with the invocations of the go command's
/// cmd/go/internal/modfetch/codehost/git.go wherever they shape the result: committer time of <c>git log -n1</c>,
/// <c>git cat-file blob</c>, <c>git for-each-ref --merged</c>, and <c>git -c core.autocrlf=input -c core.eol=lf archive
/// --format=zip --prefix=prefix/</c> after the go command's <c>info/attributes</c> line
/// (<c>* -export-subst -export-ignore</c>), so that .gitattributes export rules do not apply, exactly as for the go command.
/// </summary>
/// <remarks>
/// The go command sees only commits reachable from the remote's branches, tags and HEAD (it fetches nothing else), so
/// <see cref="ResolveAsync"/> refuses other commits even when the local copy holds them (a mirror may also carry
/// refs/pull/*, refs/changes/*, ...). Nothing is cached here: every call reads the repository as it is now.
/// </remarks>
public sealed class LocalGitRepository : IGitRepository
{
    /// <summary>The line the go command appends to info/attributes before running git archive (ensureGitAttributes).</summary>
    internal const string GoAttributesLine = "\n* -export-subst -export-ignore\n";

    private static readonly Lock AttributesLock = new();

    private readonly GitRunner _git;
    private readonly Func<bool, CancellationToken, Task<DirectResult>> _refresh;

    /// <param name="gitDirectory">The git directory (a bare repository, or the .git directory of a clone).</param>
    /// <param name="git">How git is run (its environment comes from the caller).</param>
    /// <param name="refresh">Brings the directory up to date with the origin; supplied by the mirror manager.</param>
    /// <param name="commandTimeout">Time limit of one git invocation (default 10 minutes, as archives of large repositories take a while).</param>
    public LocalGitRepository(string gitDirectory, GitRunner git, Func<bool, CancellationToken, Task<DirectResult>> refresh, TimeSpan? commandTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(gitDirectory);
        ArgumentNullException.ThrowIfNull(git);
        ArgumentNullException.ThrowIfNull(refresh);
        GitDirectory = Path.GetFullPath(gitDirectory);
        _git = git;
        _refresh = refresh;
        CommandTimeout = commandTimeout ?? TimeSpan.FromMinutes(10);
    }

    public string GitDirectory { get; }

    public TimeSpan CommandTimeout { get; }

    public Task<DirectResult> RefreshAsync(bool force, CancellationToken cancellationToken) => _refresh(force, cancellationToken);

    /// <summary>
    /// Branches and tags as <c>git ls-remote</c> would show the go command: "HEAD" (when it names a commit),
    /// "refs/heads/…" and "refs/tags/…", annotated tags peeled to the object they finally name. HeadBranch is HEAD's
    /// symbolic target ("refs/heads/main"), or null when HEAD is detached or missing.
    /// </summary>
    public async Task<(IReadOnlyList<GitRef> Refs, string? HeadBranch)> ListRefsAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(GitDirectory))
        {
            throw new GitCommandException("git directory " + GitDirectory + " does not exist");
        }

        var run = await RunAsync(["show-ref", "--head", "-d"], cancellationToken).ConfigureAwait(false);
        ThrowIfTimedOut(run, "git show-ref");

        // show-ref exits 1, saying nothing, when there is nothing to show (an empty repository).
        if (run.ExitCode != 0 && !(run.ExitCode == 1 && run.Stdout.Length == 0 && run.Stderr.Trim().Length == 0))
        {
            throw new GitCommandException("git show-ref failed: " + FirstLine(run.Stderr));
        }

        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in run.StdoutText.Split('\n'))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0)
            {
                continue;
            }

            string hash = line[..space];
            string name = line[(space + 1)..].TrimEnd('\r');
            if (name != "HEAD" && !name.StartsWith("refs/heads/", StringComparison.Ordinal) && !name.StartsWith("refs/tags/", StringComparison.Ordinal))
            {
                continue;
            }

            if (name.EndsWith("^{}", StringComparison.Ordinal))
            {
                byName[name[..^3]] = hash;
            }
            else
            {
                byName.TryAdd(name, hash);
            }
        }

        var refs = new List<GitRef>(byName.Count);
        foreach (var (name, hash) in byName)
        {
            refs.Add(new GitRef(name, hash));
        }

        refs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        string? head = null;
        var sym = await RunAsync(["symbolic-ref", "-q", "HEAD"], cancellationToken).ConfigureAwait(false);
        if (sym.Ok)
        {
            head = sym.StdoutText.Trim();
            if (head.Length == 0)
            {
                head = null;
            }
        }

        return (refs, head);
    }

    /// <summary>
    /// <c>git log -n1 --format=%H %ct rev --</c> (the go command's statLocal): the commit and its committer time. Null when
    /// git does not know rev, or when the commit is not reachable from a branch, a tag or HEAD (the go command never
    /// fetches such commits).
    /// </summary>
    public async Task<CommitInfo?> ResolveAsync(string rev, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rev);
        if (rev.Length == 0 || rev[0] == '-')
        {
            return null;
        }

        var run = await RunAsync(["-c", "log.showsignature=false", "log", "--no-decorate", "-n1", "--format=format:%H %ct", rev, "--"], cancellationToken).ConfigureAwait(false);
        ThrowIfTimedOut(run, "git log");
        if (!run.Ok)
        {
            return null;
        }

        var fields = run.StdoutText.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length < 2 || !long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds))
        {
            throw new GitCommandException("unexpected response from git log: " + GoQuote(run.StdoutText));
        }

        string hash = fields[0];
        bool namedRef = rev == "HEAD" || rev.StartsWith("refs/heads/", StringComparison.Ordinal) || rev.StartsWith("refs/tags/", StringComparison.Ordinal);
        if (!namedRef && !await IsReachableAsync(hash, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new CommitInfo(hash, DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    /// <summary>True when the commit is the tip of, or an ancestor of, a branch, a tag or HEAD.</summary>
    public async Task<bool> IsReachableAsync(string commit, CancellationToken cancellationToken)
    {
        var run = await RunAsync(["for-each-ref", "--count=1", "--format=%(refname)", "--contains", commit, "refs/heads", "refs/tags"], cancellationToken).ConfigureAwait(false);
        ThrowIfTimedOut(run, "git for-each-ref");
        if (run.Ok && run.StdoutText.Trim().Length > 0)
        {
            return true;
        }

        // A detached HEAD that no branch contains.
        var head = await RunAsync(["merge-base", "--is-ancestor", commit, "HEAD"], cancellationToken).ConfigureAwait(false);
        ThrowIfTimedOut(head, "git merge-base");
        return head.Ok;
    }

    /// <summary><c>git cat-file blob commit:path</c>, as the go command reads go.mod and LICENSE: null when that fails (no
    /// such path, a directory or a submodule). A symbolic link reads as its target text, as it does for the go command.</summary>
    /// <remarks>The size is asked first (<c>git cat-file -s</c>, which reads no content): a file larger than maxBytes
    /// (16 MiB for go.mod and LICENSE, cmd/go's codehost.MaxGoMod and MaxLICENSE) is refused with a one-line error
    /// before a byte of it is read, so a huge blob costs no memory.</remarks>
    public async Task<byte[]?> ReadFileAsync(string commit, string path, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        ArgumentNullException.ThrowIfNull(path);
        var spec = commit + ":" + path;
        var size = await RunAsync(["cat-file", "-s", spec], cancellationToken).ConfigureAwait(false);
        ThrowIfTimedOut(size, "git cat-file");
        if (!size.Ok)
        {
            return null;
        }

        if (!long.TryParse(size.StdoutText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
        {
            throw new GitCommandException("unexpected response from git cat-file -s: " + GoQuote(size.StdoutText));
        }

        if (bytes > maxBytes)
        {
            throw new GitCommandException(TooLarge(path, commit, bytes, maxBytes));
        }

        var run = await RunAsync(["cat-file", "blob", spec], cancellationToken).ConfigureAwait(false);
        ThrowIfTimedOut(run, "git cat-file");
        if (!run.Ok)
        {
            return null;
        }

        if (run.Stdout.Length > maxBytes)
        {
            throw new GitCommandException(TooLarge(path, commit, run.Stdout.Length, maxBytes));
        }

        return run.Stdout;
    }

    internal static string TooLarge(string path, string commit, long size, long maxBytes) =>
        $"{path} at revision {commit} is too large ({size} bytes; max size is {maxBytes} bytes)";

    /// <summary>
    /// The go command's ReadZip: ensures info/attributes ends with <c>* -export-subst -export-ignore</c>, then runs
    /// <c>git -c core.autocrlf=input -c core.eol=lf archive --format=zip --prefix=prefix/ commit [-- subdirectory]</c>
    /// into destination. Throws FileNotFoundException when the subdirectory matches no files.
    /// </summary>
    public async Task WriteArchiveAsync(string commit, string subdirectory, string destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        ArgumentNullException.ThrowIfNull(destination);
        EnsureGoAttributes();
        var args = new List<string> { "-c", "core.autocrlf=input", "-c", "core.eol=lf", "archive", "--format=zip", "--prefix=prefix/", commit };
        if (!string.IsNullOrEmpty(subdirectory))
        {
            args.Add("--");
            args.Add(subdirectory);
        }

        var run = await _git.RunAsync(GitDirectory, args, CommandTimeout, cancellationToken, stdoutFile: destination, extraEnvironment: Environment()).ConfigureAwait(false);
        ThrowIfTimedOut(run, "git archive");
        if (!run.Ok)
        {
            if (run.Stderr.Contains("did not match any files", StringComparison.Ordinal))
            {
                throw new FileNotFoundException("file does not exist");
            }

            throw new GitCommandException("git archive failed: " + FirstLine(run.Stderr));
        }
    }

    /// <summary><c>git for-each-ref --format %(refname) refs/tags --merged commit</c>: full names of the tags whose commits are ancestors of commit.</summary>
    public async Task<IReadOnlyList<string>> TagsMergedIntoAsync(string commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var run = await RunAsync(["for-each-ref", "--format", "%(refname)", "refs/tags", "--merged", commit], cancellationToken).ConfigureAwait(false);
        ThrowIfTimedOut(run, "git for-each-ref");
        if (!run.Ok)
        {
            throw new GitCommandException("git for-each-ref --merged failed: " + FirstLine(run.Stderr));
        }

        var tags = new List<string>();
        foreach (var line in run.StdoutText.Split('\n'))
        {
            string t = line.Trim();
            if (t.Length > 0)
            {
                tags.Add(t);
            }
        }

        return tags;
    }

    /// <summary>Appends the go command's attribute line to info/attributes unless the file already ends with it (ensureGitAttributes).</summary>
    internal void EnsureGoAttributes()
    {
        string dir = Path.Combine(GitDirectory, "info");
        string file = Path.Combine(dir, "attributes");
        lock (AttributesLock)
        {
            Directory.CreateDirectory(dir);
            using var stream = new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            var existing = new byte[stream.Length];
            stream.ReadExactly(existing);
            var line = Encoding.ASCII.GetBytes(GoAttributesLine);
            if (!existing.AsSpan().EndsWith(line))
            {
                stream.Seek(0, SeekOrigin.End);
                stream.Write(line);
            }
        }
    }

    private Task<GitRun> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
        => _git.RunAsync(GitDirectory, args, CommandTimeout, cancellationToken, extraEnvironment: Environment());

    private Dictionary<string, string> Environment() => new(StringComparer.Ordinal) { ["GIT_DIR"] = GitDirectory };

    private static void ThrowIfTimedOut(GitRun run, string what)
    {
        if (run.TimedOut)
        {
            throw new GitCommandException(what + " timed out", timedOut: true);
        }
    }

    private static string FirstLine(string s)
    {
        s = s.Trim();
        int nl = s.IndexOf('\n', StringComparison.Ordinal);
        return nl < 0 ? s : s[..nl];
    }

    private static string GoQuote(string s) => GoQuoting.Quote(s);
}

/// <summary>A git invocation failed in a way that is not "no such revision or file" (an infrastructure failure).</summary>
public sealed class GitCommandException : Exception
{
    public GitCommandException()
    {
    }

    public GitCommandException(string message)
        : base(message)
    {
    }

    public GitCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public GitCommandException(string message, bool timedOut)
        : base(message)
    {
        TimedOut = timedOut;
    }

    public bool TimedOut { get; }
}

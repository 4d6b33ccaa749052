using System.Collections.Concurrent;
using Warren.Core.Modules;

namespace Warren.Fetch.Direct.Repo;

/// <summary>
/// A shallow copy of a repository whose mirror is still being created: the refs the origin advertised (its
/// <c>git ls-remote</c>) and a scratch git directory into which single refs are fetched with depth 1, as the go command
/// fetches the one tag it needs (<c>git fetch --depth=1 origin refs/tags/vX:refs/tags/vX</c>). A tag is fetched together
/// with the highest tag of the same prefix, whose go.mod the go command reads for retractions. Fetches are coalesced per
/// ref and run one at a time (they share the scratch directory's shallow file). Deleted when disposed.
/// </summary>
public sealed class ShallowClone : IDisposable
{
    private readonly Func<IReadOnlyList<string>, CancellationToken, Task<GitRun>> _fetch;
    private readonly Func<CancellationToken, Task> _initialize;
    private readonly long? _maxBytes;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _fetched = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _commits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byName;
    private readonly CancellationToken _stopping;
    private readonly Lock _state = new();
    private Lazy<Task>? _initialized;
    private int _fetches;
    private bool _unusable;
    private bool _fetching;
    private bool _disposed;

    /// <param name="gitDirectory">The scratch directory (made by initialize, on the first fetch).</param>
    /// <param name="advertised">What <c>git ls-remote --symref origin HEAD refs/heads/* refs/tags/*</c> said.</param>
    /// <param name="initialize">Makes the scratch directory a bare repository whose origin is the repository.</param>
    /// <param name="fetch">Runs <c>git ARGS</c> against the origin in the scratch directory (credentials, egress).</param>
    /// <param name="local">Runs local git commands (reads of the scratch directory).</param>
    /// <param name="commandTimeout">The time limit of one local git command.</param>
    /// <param name="maxBytes">The repository size limit: past it, the shallow copy answers nothing (the mirror decides).</param>
    /// <param name="stopping">Cancels the shared fetches (never one caller's token).</param>
    /// <param name="mirrorReady">Completes with true once the complete mirror exists (then readers waiting on a fetch
    /// read the mirror instead), false if it failed; null: never.</param>
    internal ShallowClone(string gitDirectory, Git.GitMirrorManager.LsRemoteListing advertised, Func<CancellationToken, Task> initialize,
        Func<IReadOnlyList<string>, CancellationToken, Task<GitRun>> fetch, GitRunner local, TimeSpan commandTimeout, long? maxBytes = null,
        CancellationToken stopping = default, Task<bool>? mirrorReady = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(gitDirectory);
        ArgumentNullException.ThrowIfNull(advertised);
        MirrorReady = mirrorReady ?? new TaskCompletionSource<bool>().Task;
        GitDirectory = gitDirectory;
        _initialize = initialize;
        _fetch = fetch;
        _maxBytes = maxBytes;
        _stopping = stopping;
        (Refs, HeadBranch) = Advertised(advertised);
        _byName = Refs.ToDictionary(r => r.Name, r => r.Hash, StringComparer.Ordinal);
        Local = new LocalGitRepository(gitDirectory, local, (_, _) => Task.FromResult(DirectResult.Success), commandTimeout);
    }

    /// <summary>The scratch git directory.</summary>
    public string GitDirectory { get; }

    /// <summary>HEAD (when it names a commit), branches and tags as the origin advertised them, annotated tags peeled.</summary>
    public IReadOnlyList<GitRef> Refs { get; }

    /// <summary>HEAD's branch ("refs/heads/main"), or null.</summary>
    public string? HeadBranch { get; }

    /// <summary>Reads of the scratch directory.</summary>
    internal LocalGitRepository Local { get; }

    /// <summary>True once the complete mirror exists; false if it failed; pending while it is being made.</summary>
    public Task<bool> MirrorReady { get; }

    /// <summary>git fetch runs made so far.</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    /// <summary>Whether commit was fetched (and so can be read here).</summary>
    public bool Has(string commit) => _commits.ContainsKey(commit);

    /// <summary>The commit the origin advertised for a ref name, or null.</summary>
    public string? HashOf(string refName) => _byName.GetValueOrDefault(refName);

    /// <summary>The ref to fetch for rev: a tag or branch name in full, HEAD's branch, or the ref whose commit a full hash
    /// is; null when rev is none of these (a hash prefix, a commit no ref names).</summary>
    public string? RefFor(string rev)
    {
        if (rev == "HEAD")
        {
            return HeadBranch is { } head && _byName.ContainsKey(head) ? head : null;
        }

        if (rev.StartsWith("refs/heads/", StringComparison.Ordinal) || rev.StartsWith("refs/tags/", StringComparison.Ordinal))
        {
            return _byName.ContainsKey(rev) ? rev : null;
        }

        if (rev.Length == 40 && GitCodeHost.AllHex(rev))
        {
            string? found = null;
            foreach (var r in Refs)
            {
                if (r.Hash == rev && r.Name != "HEAD" && (found is null || string.CompareOrdinal(r.Name, found) < 0))
                {
                    found = r.Name;
                }
            }

            return found;
        }

        return null;
    }

    /// <summary>Fetches refName with depth 1 (once; concurrent callers share it). False when it cannot be used: the fetch
    /// failed, the copy grew past the size limit, or the origin moved the ref since it advertised it.</summary>
    public Task<bool> EnsureAsync(string refName, CancellationToken cancellationToken)
        => _fetched.GetOrAdd(refName, r => new Lazy<Task<bool>>(() => TryFetchAsync(r))).Value.WaitAsync(cancellationToken);

    // Whatever goes wrong here, the complete mirror can still answer: a failure only means "not from the copy".
    private async Task<bool> TryFetchAsync(string refName)
    {
        try
        {
            return await FetchAsync(refName).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or GitCommandException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private async Task<bool> FetchAsync(string refName)
    {
        var refs = new List<string> { refName };
        if (refName.StartsWith("refs/tags/", StringComparison.Ordinal) && HighestTagLike(refName) is { } highest && highest != refName
            && _fetched.TryAdd(highest, new Lazy<Task<bool>>(() => FetchedWithAsync(refName, highest))))
        {
            refs.Add(highest);
        }

        await _gate.WaitAsync(_stopping).ConfigureAwait(false);
        var deleteAfter = false;
        try
        {
            lock (_state)
            {
                if (_disposed || _unusable)
                {
                    return false;
                }

                _fetching = true;
            }

            _initialized ??= new Lazy<Task>(() => _initialize(_stopping));
            await _initialized.Value.ConfigureAwait(false);
            string[] args = ["fetch", "--quiet", "--force", "--depth=1", "--no-tags", "--no-recurse-submodules", "origin", .. refs.Select(r => "+" + r + ":" + r)];
            Interlocked.Increment(ref _fetches);
            var run = await _fetch(args, _stopping).ConfigureAwait(false);
            if (!run.Ok)
            {
                return false;
            }

            if (_maxBytes is { } max && Git.GitMirrorManager.DirectorySize(GitDirectory) > max)
            {
                _unusable = true;
                return false;
            }

            foreach (var r in refs)
            {
                var commit = await Local.ResolveAsync(r, _stopping).ConfigureAwait(false);
                if (commit is not null && commit.Hash == HashOf(r))
                {
                    _commits.TryAdd(commit.Hash, 0);
                }
            }

            return HashOf(refName) is { } hash && _commits.ContainsKey(hash);
        }
        finally
        {
            lock (_state)
            {
                deleteAfter = _fetching && _disposed;
                _fetching = false;
            }

            _gate.Release();
            if (deleteAfter)
            {
                Git.GitMirrorManager.DeleteDirectory(GitDirectory);
            }
        }
    }

    // The highest tag's fetch rides along with refName's: its result is known once that fetch is done.
    private async Task<bool> FetchedWithAsync(string refName, string highest)
    {
        await _fetched[refName].Value.ConfigureAwait(false);
        return HashOf(highest) is { } hash && _commits.ContainsKey(hash);
    }

    /// <summary>The tag whose go.mod the go command reads for retractions when asked for tag (refs/tags/PREFIX/vX.Y.Z):
    /// the highest release of the same prefix and major version, else the highest pre-release; null when tag is not a
    /// version.</summary>
    private string? HighestTagLike(string tagRef)
    {
        string name = tagRef["refs/tags/".Length..];
        int slash = name.LastIndexOf('/');
        string prefix = "refs/tags/" + (slash < 0 ? "" : name[..(slash + 1)]);
        string asked = name[(slash + 1)..];
        if (!SemVer.IsValid(asked))
        {
            return null;
        }

        string major = SemVer.Major(asked);
        string? best = null;
        string bestVersion = "";
        foreach (var r in Refs)
        {
            if (!r.Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            string v = r.Name[prefix.Length..];
            if (v.Contains('/', StringComparison.Ordinal) || !SemVer.IsValid(v) || PseudoVersion.IsPseudoVersion(v) || SemVer.Major(v) != major)
            {
                continue;
            }

            bool release = SemVer.Prerelease(v).Length == 0;
            bool bestRelease = best is not null && SemVer.Prerelease(bestVersion).Length == 0;
            if (best is null || (release && !bestRelease) || (release == bestRelease && SemVer.Compare(v, bestVersion) > 0))
            {
                best = r.Name;
                bestVersion = v;
            }
        }

        return best;
    }

    /// <summary>ls-remote's lines as refs: HEAD with its commit (only when HEAD names a branch, as a mirror shows it),
    /// refs/heads/* and refs/tags/* with annotated tags peeled, sorted by name, leaving out names git would refuse and
    /// anything but a full hash; and HEAD's branch.</summary>
    public static (IReadOnlyList<GitRef> Refs, string? HeadBranch) ParseLsRemote(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return Advertised(Git.GitMirrorManager.ParseLsRemote(output));
    }

    private static (IReadOnlyList<GitRef> Refs, string? HeadBranch) Advertised(Git.GitMirrorManager.LsRemoteListing listing)
    {
        static bool IsHash(string? h) => h is { Length: 40 } && GitCodeHost.AllHex(h);
        var refs = new List<GitRef>();
        foreach (var name in listing.Refs.Keys.Union(listing.Peeled.Keys))
        {
            // The "^{}" line wins: the commit an annotated tag names.
            string? hash = listing.Peeled.GetValueOrDefault(name) is { } p && IsHash(p) ? p : listing.Refs.GetValueOrDefault(name);
            if (IsHash(hash) && IsRefName(name))
            {
                refs.Add(new GitRef(name, hash!));
            }
        }

        if (listing.Head is not null && IsHash(listing.HeadHash))
        {
            refs.Add(new GitRef("HEAD", listing.HeadHash!));
        }

        refs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return (refs, listing.Head);
    }

    /// <summary>git's rules for a ref name (git check-ref-format): what an origin advertises otherwise is never put in a
    /// refspec (a name with "*" would be a pattern).</summary>
    internal static bool IsRefName(string name)
    {
        if (name.Length == 0 || name.EndsWith('/') || name.EndsWith('.') || name.EndsWith(".lock", StringComparison.Ordinal)
            || name.Contains("..", StringComparison.Ordinal) || name.Contains("@{", StringComparison.Ordinal) || name.Contains("//", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c <= ' ' || c == 0x7f || c is '~' or '^' or ':' or '?' or '*' or '[' or '\\')
            {
                return false;
            }
        }

        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part[0] == '.')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Deletes the scratch directory, at once or, when a fetch is writing to it, once that fetch is over; no
    /// fetch starts after this.</summary>
    public void Dispose()
    {
        lock (_state)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_fetching)
            {
                return;
            }
        }

        Git.GitMirrorManager.DeleteDirectory(GitDirectory);
    }
}

/// <summary>
/// A repository read while its mirror is being created: refs from the origin's advertisement, and the commits named by a
/// tag, a branch or HEAD (or a full hash that a ref names) from a depth-1 fetch of that one ref into a
/// <see cref="ShallowClone"/>. Everything that needs history (a hash prefix or a commit no ref names, the tags merged
/// into a commit for pseudo-versions) waits for the complete mirror and reads it, so every answer is the one the complete
/// mirror would give.
/// </summary>
internal sealed class ShallowFirstRepository(ShallowClone shallow, Func<CancellationToken, Task<IGitRepository>> complete) : IGitRepository
{
    private readonly Lock _lock = new();
    private Task<IGitRepository>? _complete;

    public string GitDirectory => shallow.GitDirectory;

    /// <summary>Whether anything had to wait for the complete mirror.</summary>
    public bool UsedComplete { get; private set; }

    private Task<IGitRepository> CompleteAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            UsedComplete = true;
            _complete ??= complete(cancellationToken);
            return _complete;
        }
    }

    public async Task<DirectResult> RefreshAsync(bool force, CancellationToken cancellationToken)
        => force ? await (await CompleteAsync(cancellationToken).ConfigureAwait(false)).RefreshAsync(true, cancellationToken).ConfigureAwait(false) : DirectResult.Success;

    public Task<(IReadOnlyList<GitRef> Refs, string? HeadBranch)> ListRefsAsync(CancellationToken cancellationToken)
        => Task.FromResult((shallow.Refs, shallow.HeadBranch));

    public async Task<CommitInfo?> ResolveAsync(string rev, CancellationToken cancellationToken)
    {
        if (shallow.RefFor(rev) is { } refName && !(shallow.MirrorReady.IsCompletedSuccessfully && shallow.MirrorReady.Result))
        {
            // Whichever comes first: the depth-1 fetch, or the mirror (then the fetch is not waited for).
            var fetch = shallow.EnsureAsync(refName, cancellationToken);
            var first = await Task.WhenAny(fetch, shallow.MirrorReady).ConfigureAwait(false);
            if (first == fetch || !await shallow.MirrorReady.ConfigureAwait(false))
            {
                try
                {
                    if (await fetch.ConfigureAwait(false) && await shallow.Local.ResolveAsync(refName, cancellationToken).ConfigureAwait(false) is { } commit
                        && shallow.Has(commit.Hash))
                    {
                        return commit;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or GitCommandException or System.ComponentModel.Win32Exception)
                {
                    // The mirror answers instead.
                }
            }
        }

        return await (await CompleteAsync(cancellationToken).ConfigureAwait(false)).ResolveAsync(rev, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> ReadFileAsync(string commit, string path, long maxBytes, CancellationToken cancellationToken)
        => shallow.Has(commit)
            ? await shallow.Local.ReadFileAsync(commit, path, maxBytes, cancellationToken).ConfigureAwait(false)
            : await (await CompleteAsync(cancellationToken).ConfigureAwait(false)).ReadFileAsync(commit, path, maxBytes, cancellationToken).ConfigureAwait(false);

    public async Task WriteArchiveAsync(string commit, string subdirectory, string destination, CancellationToken cancellationToken)
    {
        var repo = shallow.Has(commit) ? shallow.Local : await CompleteAsync(cancellationToken).ConfigureAwait(false);
        await repo.WriteArchiveAsync(commit, subdirectory, destination, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> TagsMergedIntoAsync(string commit, CancellationToken cancellationToken)
        => await (await CompleteAsync(cancellationToken).ConfigureAwait(false)).TagsMergedIntoAsync(commit, cancellationToken).ConfigureAwait(false);
}

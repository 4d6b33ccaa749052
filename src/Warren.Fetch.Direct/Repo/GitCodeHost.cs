using System.Collections.Concurrent;
using Warren.Core.Modules;

namespace Warren.Fetch.Direct.Repo;

/// <summary>A revision as codehost.RevInfo describes it: full hash, short hash, commit time, the version git suggests
/// (the tag asked for, else the hash) and the tags on the commit.</summary>
internal sealed record CodeRevInfo(string Name, string Short, DateTimeOffset Time, string Version, IReadOnlyList<string> Tags);

/// <summary>
/// The go command's view of a git repository (cmd/go/internal/modfetch/codehost/git.go, gitRepo), over a local copy that
/// holds everything the origin has: refs as <c>git ls-remote</c> lists them, Stat's resolution order (tag, branch, HEAD,
/// hash prefix of a ref, any reachable hash), RecentTag, DescendsFrom, ReadFile and ReadZip. Results are memoized for the
/// lifetime of the instance (one request, or one short-lived module view), as the go command does within one run.
/// </summary>
internal sealed class GitCodeHost
{
    private const int MinHashDigits = 7;

    private readonly IGitRepository _repo;
    private readonly Lock _lock = new();
    private Task<Refs>? _refs;
    private readonly ConcurrentDictionary<string, Lazy<Task<CodeRevInfo>>> _stat = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), Lazy<Task<byte[]?>>> _files = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<string>>>> _merged = new(StringComparer.Ordinal);

    public GitCodeHost(IGitRepository repo)
    {
        _repo = repo;
    }

    public IGitRepository Repository => _repo;

    /// <summary>Refs in the go command's shape: name → commit ("HEAD", "refs/heads/…", "refs/tags/…", tags peeled), and the
    /// tags of each commit.</summary>
    internal sealed record Refs(Dictionary<string, string> ByName, Dictionary<string, List<string>> TagsByCommit);

    public Task<Refs> LoadRefsAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _refs ??= LoadRefsCoreAsync(cancellationToken);
            return _refs;
        }
    }

    private async Task<Refs> LoadRefsCoreAsync(CancellationToken cancellationToken)
    {
        var refreshed = await _repo.RefreshAsync(false, cancellationToken).ConfigureAwait(false);
        if (refreshed.Status != DirectStatus.Ok)
        {
            throw new RepoException(refreshed.Status, refreshed.Message);
        }

        var (list, _) = await _repo.ListRefsAsync(cancellationToken).ConfigureAwait(false);
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        var tagsByCommit = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var r in list)
        {
            if (r.Name != "HEAD" && !r.Name.StartsWith("refs/heads/", StringComparison.Ordinal) && !r.Name.StartsWith("refs/tags/", StringComparison.Ordinal))
            {
                continue;
            }

            byName[r.Name] = r.Hash;
            if (r.Name.StartsWith("refs/tags/", StringComparison.Ordinal))
            {
                if (!tagsByCommit.TryGetValue(r.Hash, out var tags))
                {
                    tagsByCommit[r.Hash] = tags = [];
                }

                tags.Add(r.Name["refs/tags/".Length..]);
            }
        }

        foreach (var tags in tagsByCommit.Values)
        {
            tags.Sort(string.CompareOrdinal);
        }

        return new Refs(byName, tagsByCommit);
    }

    /// <summary>gitRepo.Tags: tags starting with prefix (names without refs/tags/), sorted by name, with their commits.</summary>
    public async Task<List<(string Name, string Hash)>> TagsAsync(string prefix, CancellationToken cancellationToken)
    {
        var refs = await LoadRefsAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<(string Name, string Hash)>();
        foreach (var (name, hash) in refs.ByName)
        {
            if (!name.StartsWith("refs/tags/", StringComparison.Ordinal))
            {
                continue;
            }

            string tag = name["refs/tags/".Length..];
            if (tag.StartsWith(prefix, StringComparison.Ordinal))
            {
                list.Add((tag, hash));
            }
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>gitRepo.Latest: Stat of the commit HEAD names; "no commits" when there is none.</summary>
    public async Task<CodeRevInfo> LatestAsync(CancellationToken cancellationToken)
    {
        var refs = await LoadRefsAsync(cancellationToken).ConfigureAwait(false);
        if (!refs.ByName.TryGetValue("HEAD", out var head) || head.Length == 0)
        {
            throw new RepoException(DirectStatus.NotFound, "no commits", isNotExist: true);
        }

        return await StatAsync(head, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>gitRepo.Stat, with the resolution order the go command follows on a fresh module cache.</summary>
    public Task<CodeRevInfo> StatAsync(string rev, CancellationToken cancellationToken)
    {
        if (rev == "latest")
        {
            return LatestAsync(cancellationToken);
        }

        return _stat.GetOrAdd(rev, r => new Lazy<Task<CodeRevInfo>>(() => StatCoreAsync(r, cancellationToken))).Value;
    }

    private async Task<CodeRevInfo> StatCoreAsync(string rev, CancellationToken cancellationToken)
    {
        var refs = await LoadRefsAsync(cancellationToken).ConfigureAwait(false);
        string version = rev;
        string lookup;
        string errorRev;
        if (refs.ByName.TryGetValue("refs/tags/" + rev, out _))
        {
            // Keep rev as is: tags are assumed not to change meaning.
            lookup = "refs/tags/" + rev;
            errorRev = lookup;
        }
        else if (refs.ByName.TryGetValue("refs/heads/" + rev, out var branchHash))
        {
            lookup = "refs/heads/" + rev;
            errorRev = lookup;
            version = branchHash;
        }
        else if (rev == "HEAD" && refs.ByName.TryGetValue("HEAD", out var headHash))
        {
            lookup = "HEAD";
            errorRev = lookup;
            version = headHash;
        }
        else if (rev.Length >= MinHashDigits && rev.Length <= 40 && AllHex(rev))
        {
            string? hash = null;
            foreach (var h in refs.ByName.Values)
            {
                if (h.StartsWith(rev, StringComparison.Ordinal))
                {
                    if (hash is not null && hash != h)
                    {
                        // An ambiguous hash prefix: more information will not change that.
                        throw new RepoException(DirectStatus.NotFound, "ambiguous revision " + rev);
                    }

                    hash = h;
                }
            }

            if (hash is not null)
            {
                version = hash;
                lookup = hash;
                errorRev = hash;
            }
            else
            {
                lookup = rev;
                errorRev = rev;
            }
        }
        else
        {
            throw UnknownRevision(rev);
        }

        var commit = await _repo.ResolveAsync(lookup, cancellationToken).ConfigureAwait(false) ?? throw UnknownRevision(errorRev);
        string name = commit.Hash;
        if (name.StartsWith(version, StringComparison.Ordinal))
        {
            version = name; // extend to full hash
        }

        IReadOnlyList<string> tags = refs.TagsByCommit.TryGetValue(name, out var t) ? t : [];

        // Use the caller's suggested version if it is one of the commit's tags (filters out branch names, HEAD).
        string infoVersion = name;
        foreach (var tag in tags)
        {
            if (tag == version)
            {
                infoVersion = version;
            }
        }

        return new CodeRevInfo(name, ShortenSha1(name), commit.Time.ToUniversalTime(), infoVersion, tags);
    }

    /// <summary>gitRepo.ReadFile: Stat's error when rev is unknown; null when the file does not exist at rev.</summary>
    public async Task<byte[]?> ReadFileAsync(string rev, string file, long maxBytes, CancellationToken cancellationToken)
    {
        var info = await StatAsync(rev, cancellationToken).ConfigureAwait(false);
        return await _files.GetOrAdd((info.Name, file), key => new Lazy<Task<byte[]?>>(
            () => _repo.ReadFileAsync(key.Item1, key.Item2, maxBytes, cancellationToken))).Value.ConfigureAwait(false);
    }

    /// <summary>gitRepo.RecentTag: the highest tag (by semver of the part after prefix) merged into rev that allowed accepts, or "".</summary>
    public async Task<string> RecentTagAsync(string rev, string prefix, Func<string, Task<bool>> allowed, CancellationToken cancellationToken)
    {
        var info = await StatAsync(rev, cancellationToken).ConfigureAwait(false);
        var merged = await MergedAsync(info.Name, cancellationToken).ConfigureAwait(false);
        string highest = "";
        foreach (var line in merged)
        {
            if (!line.StartsWith("refs/tags/", StringComparison.Ordinal))
            {
                continue;
            }

            string tag = line["refs/tags/".Length..];
            if (!tag.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (!await allowed(tag).ConfigureAwait(false))
            {
                continue;
            }

            string semtag = tag[prefix.Length..];
            if (SemVer.Compare(semtag, highest) > 0)
            {
                highest = semtag;
            }
        }

        return highest.Length == 0 ? "" : prefix + highest;
    }

    /// <summary>gitRepo.DescendsFrom: whether the commit of the tag is an ancestor of (or is) rev.</summary>
    public async Task<bool> DescendsFromAsync(string rev, string tag, CancellationToken cancellationToken)
    {
        var merged = await MergedAsync(rev, cancellationToken).ConfigureAwait(false);
        string full = "refs/tags/" + tag;
        foreach (var m in merged)
        {
            if (m == full)
            {
                return true;
            }
        }

        return false;
    }

    private Task<IReadOnlyList<string>> MergedAsync(string commit, CancellationToken cancellationToken)
        => _merged.GetOrAdd(commit, c => new Lazy<Task<IReadOnlyList<string>>>(() => _repo.TagsMergedIntoAsync(c, cancellationToken))).Value;

    public static RepoException UnknownRevision(string rev)
        => new(DirectStatus.NotFound, "unknown revision " + rev, isNotExist: true);

    public static bool AllHex(string s)
    {
        foreach (char c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    public static string ShortenSha1(string rev) => AllHex(rev) && rev.Length == 40 ? rev[..12] : rev;
}

/// <summary>An error with the go command's text. IsNotExist marks the errors Go treats as fs.ErrNotExist (errors.Is).</summary>
internal sealed class RepoException : Exception
{
    public RepoException(DirectStatus status, string message, bool isNotExist = false)
        : base(message)
    {
        Status = status;
        IsNotExist = isNotExist;
    }

    public RepoException()
    {
    }

    public RepoException(string message)
        : base(message)
    {
    }

    public RepoException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DirectStatus Status { get; } = DirectStatus.NotFound;

    public bool IsNotExist { get; }
}

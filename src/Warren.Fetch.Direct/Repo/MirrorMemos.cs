using System.Collections.Concurrent;

namespace Warren.Fetch.Direct.Repo;

/// <summary>
/// What was read from each mirror, kept across requests until the mirror changes (its generation, see
/// <see cref="Git.GitMirrorManager.GenerationOf"/>): the refs, resolved revisions, small files at a commit and the tags
/// merged into a commit. A request for a version's .info, .mod and .zip then runs git for each of these once, not three
/// times. Bounded: at most <see cref="MaxMirrors"/> mirrors and <see cref="MaxEntries"/> entries of each kind per mirror
/// (beyond, reads run uncached); only files of at most <see cref="MaxFileBytes"/> are kept.
/// </summary>
public sealed class MirrorMemos
{
    /// <summary>Mirrors remembered at most; past it, all are forgotten at once.</summary>
    public const int MaxMirrors = 128;

    /// <summary>Entries of each kind (revisions, files, merged tags) remembered per mirror at most.</summary>
    public const int MaxEntries = 4096;

    /// <summary>The largest file kept (go.mod files are far smaller; LICENSE files may not be).</summary>
    public const int MaxFileBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, Memo> _memos = new(StringComparer.Ordinal);
    private readonly CancellationToken _stopping;

    /// <param name="stopping">Cancels shared reads at shutdown (a shared read never follows one caller's token).</param>
    public MirrorMemos(CancellationToken stopping = default)
    {
        _stopping = stopping;
    }

    /// <summary>Mirrors remembered now.</summary>
    public int Count => _memos.Count;

    /// <summary>repository seen through the memo of its directory, valid while generation() returns what it returned
    /// when each entry was made.</summary>
    public IGitRepository Wrap(IGitRepository repository, Func<long> generation)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(generation);
        return new MemoizedGitRepository(this, repository, generation);
    }

    private Memo Current(string gitDirectory, long generation)
    {
        if (_memos.TryGetValue(gitDirectory, out var memo) && memo.Generation == generation)
        {
            return memo;
        }

        if (_memos.Count >= MaxMirrors && !_memos.ContainsKey(gitDirectory))
        {
            _memos.Clear();
        }

        var fresh = new Memo(generation);
        return _memos.AddOrUpdate(gitDirectory, fresh, (_, old) => old.Generation == generation ? old : fresh);
    }

    private sealed class Memo(long generation)
    {
        public long Generation { get; } = generation;

        public Lazy<Task<(IReadOnlyList<GitRef> Refs, string? HeadBranch)>>? Refs;

        public readonly ConcurrentDictionary<string, Lazy<Task<CommitInfo?>>> Resolved = new(StringComparer.Ordinal);

        public readonly ConcurrentDictionary<(string Commit, string Path, long MaxBytes), Lazy<Task<byte[]?>>> Files = new();

        public readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<string>>>> Merged = new(StringComparer.Ordinal);
    }

    private sealed class MemoizedGitRepository(MirrorMemos memos, IGitRepository inner, Func<long> generation) : IGitRepository
    {
        public string GitDirectory => inner.GitDirectory;

        private Memo Memo => memos.Current(inner.GitDirectory, generation());

        public Task<DirectResult> RefreshAsync(bool force, CancellationToken cancellationToken) => inner.RefreshAsync(force, cancellationToken);

        public Task<(IReadOnlyList<GitRef> Refs, string? HeadBranch)> ListRefsAsync(CancellationToken cancellationToken)
        {
            var memo = Memo;
            var made = new Lazy<Task<(IReadOnlyList<GitRef> Refs, string? HeadBranch)>>(() => inner.ListRefsAsync(memos._stopping));
            var lazy = Interlocked.CompareExchange(ref memo.Refs, made, null) ?? made;
            return Shared(lazy, cancellationToken, () => Interlocked.CompareExchange(ref memo.Refs, null, lazy));
        }

        public Task<CommitInfo?> ResolveAsync(string rev, CancellationToken cancellationToken) =>
            Get(Memo.Resolved, rev, () => inner.ResolveAsync(rev, memos._stopping), cancellationToken);

        public Task<byte[]?> ReadFileAsync(string commit, string path, long maxBytes, CancellationToken cancellationToken)
        {
            // Only a full hash names fixed content; small answers only.
            if (commit.Length != 40 || !GitCodeHost.AllHex(commit))
            {
                return inner.ReadFileAsync(commit, path, maxBytes, cancellationToken);
            }

            return ReadSmallAsync(commit, path, maxBytes, cancellationToken);
        }

        private async Task<byte[]?> ReadSmallAsync(string commit, string path, long maxBytes, CancellationToken cancellationToken)
        {
            var files = Memo.Files;
            var key = (commit, path, maxBytes);
            var data = await Get(files, key, () => inner.ReadFileAsync(commit, path, maxBytes, memos._stopping), cancellationToken).ConfigureAwait(false);
            if (data is { Length: > MaxFileBytes })
            {
                files.TryRemove(key, out _);
            }

            return data;
        }

        public Task WriteArchiveAsync(string commit, string subdirectory, string destination, CancellationToken cancellationToken) =>
            inner.WriteArchiveAsync(commit, subdirectory, destination, cancellationToken);

        public Task<IReadOnlyList<string>> TagsMergedIntoAsync(string commit, CancellationToken cancellationToken) =>
            Get(Memo.Merged, commit, () => inner.TagsMergedIntoAsync(commit, memos._stopping), cancellationToken);

        /// <summary>The entry's shared read (made now if there is none and the memo has room); a read that fails is
        /// forgotten, so the next caller tries again.</summary>
        private static Task<T> Get<TKey, T>(ConcurrentDictionary<TKey, Lazy<Task<T>>> entries, TKey key, Func<Task<T>> read, CancellationToken cancellationToken)
            where TKey : notnull
        {
            if (!entries.TryGetValue(key, out var lazy))
            {
                if (entries.Count >= MaxEntries)
                {
                    return read().WaitAsync(cancellationToken);
                }

                lazy = entries.GetOrAdd(key, _ => new Lazy<Task<T>>(read));
            }

            return Shared(lazy, cancellationToken, () => entries.TryRemove(new KeyValuePair<TKey, Lazy<Task<T>>>(key, lazy)));
        }

        private static async Task<T> Shared<T>(Lazy<Task<T>> lazy, CancellationToken cancellationToken, Action forget)
        {
            try
            {
                return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
            {
                forget();
                throw;
            }
        }
    }
}

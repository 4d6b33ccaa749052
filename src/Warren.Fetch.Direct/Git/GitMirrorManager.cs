using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Warren.Fetch.Direct.Egress;
using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct.Git;

/// <summary>Operation counts of one mirror since this manager started (also written to the mirror's operations log).</summary>
/// <param name="Clones">Mirror creations (init + full fetch).</param>
/// <param name="Fetches">Incremental `git fetch` runs into an existing mirror.</param>
/// <param name="RemoteChecks">`git ls-remote` runs (one per clone or refresh that reached the network).</param>
/// <param name="LastSuccess">When the mirror last matched the origin.</param>
/// <param name="ShallowFetches">Depth-1 fetches of single refs made to answer while the mirror was being created.</param>
public sealed record GitMirrorStats(int Clones, int Fetches, int RemoteChecks, DateTimeOffset? LastSuccess, int ShallowFetches = 0);

/// <summary>A shallow copy of a repository whose mirror is being created, held until disposed.</summary>
public interface IShallowAccess : IDisposable
{
    ShallowClone Clone { get; }
}

/// <summary>What <see cref="GitMirrorManager.EnsureOrShallowAsync"/> gives: the mirror's git directory, or a shallow copy
/// to read meanwhile, or (neither) the failure.</summary>
public sealed record MirrorAccess(string? GitDirectory, IShallowAccess? Shallow, DirectResult Result);

/// <summary>Keeps one bare mirror per repository URL under <see cref="GitMirrorOptions.MirrorRoot"/> and keeps it fresh.
/// <para>Layout: &lt;root&gt;/&lt;sha256(url)[..16]&gt;-&lt;host-and-path&gt; is a bare repository with refs/heads/* and refs/tags/*
/// of the origin and HEAD set to the origin's HEAD branch; its "warren" subdirectory holds the creation marker
/// ("created", written before the mirror is renamed into place, so a directory without it is a leftover), the
/// operations log (one line per clone/fetch/check) and the freshness stamp.</para>
/// <para>Credentials never appear in a command line: git gets an inline credential helper (the helper text is visible
/// in argv, but it only prints environment variables) through GIT_CONFIG_COUNT/KEY/VALUE environment entries, after an
/// empty credential.helper that switches off the user's helpers for that invocation (so git never hands our secret to a
/// credential store). The helper answers only for the protocol and host git actually talks to (after insteadOf), so a
/// redirect to another host gets nothing.</para></summary>
public sealed class GitMirrorManager : IDisposable
{
    /// <summary>The directory inside each mirror holding Warren's own files.</summary>
    public const string MetadataDirectory = "warren";

    /// <summary>Written (with a random id) when a mirror is complete, before it is renamed into place.</summary>
    public const string CreatedMarker = "created";

    /// <summary>One line per network operation: "&lt;UTC time&gt; clone|fetch|check ok|failed".</summary>
    public const string OperationsLog = "operations.log";

    private const string FreshStamp = "fetched";

    /// <summary>Touched (at most once a minute) when the mirror is used; its time orders pruning.</summary>
    public const string UsedStamp = "used";
    private const string StagingPrefix = ".tmp-";
    private const string TrashPrefix = ".trash-";
    private const string ShallowHostPrefix = "shallow fetches of ";

    private static readonly string[] FetchRefspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

    private readonly GitMirrorOptions _options;
    private readonly HardenedGit _git;
    private readonly ILogger _logger;
    private readonly SecretRedactor _redactor;
    private readonly ConcurrentDictionary<string, MirrorState> _mirrors = new(StringComparer.Ordinal);
    // Per-host gates exist only while an operation for that host runs or waits, so made-up hosts cannot grow this.
    private readonly Dictionary<string, HostGate> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _pruning = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationToken _stopping;

    /// <summary>A manager whose git runs through its own <see cref="HardenedGit"/> built from options.</summary>
    public GitMirrorManager(GitMirrorOptions options, GitRunner? git = null, ILogger? logger = null)
        : this(options, new HardenedGit(options, git), logger)
    {
    }

    /// <summary>A manager sharing hardened (its credentials, configuration and private home; those of options are not
    /// used) with discovery's probe and other git users.</summary>
    public GitMirrorManager(GitMirrorOptions options, HardenedGit hardened, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(hardened);
        ArgumentException.ThrowIfNullOrEmpty(options.MirrorRoot);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentOperationsPerHost, 1);
        _options = options;
        _git = hardened;
        _redactor = hardened.Redactor;
        _logger = logger ?? NullLogger.Instance;
        _stopping = _shutdown.Token;
        MirrorRoot = Path.GetFullPath(options.MirrorRoot);
        Directory.CreateDirectory(MirrorRoot);
        CleanLeftovers();
    }

    /// <summary>Cancelled when the manager is disposed (shutdown): for reads of its mirrors shared by several requests.</summary>
    internal CancellationToken Stopping => _stopping;

    /// <summary>The directory holding the mirrors (absolute).</summary>
    public string MirrorRoot { get; }

    /// <summary>Where the mirror of repoUrl lives (whether or not it exists yet).</summary>
    public string GetMirrorDirectory(string repoUrl) => Path.Combine(MirrorRoot, DirectoryName(Parse(repoUrl) ?? throw new ArgumentException("not a git repository URL", nameof(repoUrl))));

    /// <summary>Counts for repoUrl's mirror since this manager started.</summary>
    public GitMirrorStats GetStats(string repoUrl)
    {
        var url = Parse(repoUrl) ?? throw new ArgumentException("not a git repository URL", nameof(repoUrl));
        if (!_mirrors.TryGetValue(url.Url, out var s))
        {
            return new GitMirrorStats(0, 0, 0, null);
        }

        lock (s.Gate)
        {
            return new GitMirrorStats(s.Clones, s.Fetches, s.RemoteChecks, s.LastSuccess, s.ShallowFetches + (s.Pending?.Fetches ?? 0));
        }
    }

    /// <summary>A number that changes whenever the mirror of repoUrl may have changed (created, fetched into, HEAD moved,
    /// removed): what was read from the mirror under one generation holds until it changes.</summary>
    public long GenerationOf(string repoUrl)
    {
        var url = Parse(repoUrl);
        return url is not null && _mirrors.TryGetValue(url.Url, out var s) ? Volatile.Read(ref s.Generation) : 0;
    }

    private static long s_generations;

    private static void Changed(MirrorState s) => Volatile.Write(ref s.Generation, Interlocked.Increment(ref s_generations));

    /// <summary>Creates the mirror of repoUrl if there is none (concurrent callers share one clone) and returns its git
    /// directory; an existing mirror is returned as is (see <see cref="RefreshAsync"/>).</summary>
    public async Task<(string? GitDirectory, DirectResult Result)> EnsureAsync(string repoUrl, CancellationToken cancellationToken)
    {
        if (!TryState(repoUrl, out var state, out var invalid))
        {
            return (null, invalid);
        }

        var result = await Start(state, force: false, ensureOnly: true).WaitAsync(cancellationToken).ConfigureAwait(false);
        return result.Status == DirectStatus.Ok ? (state.Directory, result) : (null, result);
    }

    /// <summary>
    /// <see cref="EnsureAsync"/>, except that when the mirror is still being created after
    /// <see cref="GitMirrorOptions.ShallowFirstAfter"/>, the answer is a shallow copy of the repository instead: the refs the
    /// origin advertised, and single refs fetched with depth 1 on demand (<see cref="ShallowClone"/>), held until the
    /// returned access is disposed. Small repositories are mirrored before the delay is up; large ones answer a
    /// version's first request without waiting for all their history.
    /// </summary>
    public async Task<MirrorAccess> EnsureOrShallowAsync(string repoUrl, CancellationToken cancellationToken)
    {
        if (!TryState(repoUrl, out var state, out var invalid))
        {
            return new MirrorAccess(null, null, invalid);
        }

        var ensure = Start(state, force: false, ensureOnly: true);
        PendingClone? pending;
        lock (state.Gate)
        {
            pending = state.Pending;
        }

        if (!ensure.IsCompleted && _options.ShallowFirstAfter is { } after && pending is not null)
        {
            // The delay counts from the clone's start: once a clone has taken longer, every request reads the copy at once.
            var wait = after - _options.TimeProvider.GetElapsedTime(pending.Started);
            if (wait > TimeSpan.Zero)
            {
                using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(ensure, Task.Delay(wait, _options.TimeProvider, delay.Token)).ConfigureAwait(false);
                await delay.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (!ensure.IsCompleted)
            {
                await Task.WhenAny(ensure, pending.Shallow.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (!ensure.IsCompleted && pending.Shallow.Task.IsCompletedSuccessfully && pending.Shallow.Task.Result is { } shallow && pending.TryAcquire())
                {
                    GitMirrorLog.ShallowFirst(_logger, state.Url.Url);
                    return new MirrorAccess(null, new ShallowAccess(pending, shallow), DirectResult.Success);
                }
            }
        }

        var result = await ensure.WaitAsync(cancellationToken).ConfigureAwait(false);
        return result.Status == DirectStatus.Ok ? new MirrorAccess(state.Directory, null, result) : new MirrorAccess(null, null, result);
    }

    /// <summary>Brings the mirror up to date with the origin: an incremental fetch of what changed (creating the mirror if
    /// needed), skipped when the last success is younger than the freshness window unless force. Concurrent callers
    /// share one operation.</summary>
    public Task<DirectResult> RefreshAsync(string repoUrl, bool force, CancellationToken cancellationToken)
    {
        if (!TryState(repoUrl, out var state, out var invalid))
        {
            return Task.FromResult(invalid);
        }

        return Start(state, force, ensureOnly: false).WaitAsync(cancellationToken);
    }

    /// <summary>The refresh operation of one repository, for <see cref="IGitRepository.RefreshAsync"/> implementations.</summary>
    public Func<bool, CancellationToken, Task<DirectResult>> RefreshDelegate(string repoUrl) =>
        (force, cancellationToken) => RefreshAsync(repoUrl, force, cancellationToken);

    /// <summary>Whether <paramref name="credential"/> can read <paramref name="repoUrl"/>: one `git ls-remote URL HEAD`
    /// that presents this credential and no other (configured, .netrc and URL credentials are not used; git gets an empty
    /// private HOME, so curl finds no .netrc either). No mirror is touched and nothing is written. The credential travels
    /// like the configured ones (environment and the inline helper, only to the host git contacts after insteadOf; plain
    /// http only with <see cref="GitMirrorOptions.AllowCredentialsOverHttp"/>) and is not kept or logged.
    /// Ok: readable; NotFound: credential refused or no such repository; Failed/Timeout: the origin could not tell.</summary>
    public async Task<DirectResult> CheckAccessAsync(string repoUrl, GitCredential credential, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var url = Parse(repoUrl);
        if (url is null)
        {
            return DirectResult.NotFound($"git: invalid repository URL {_redactor.Redact(repoUrl ?? "")}");
        }

        if (HardenedGit.IsUnusable(credential))
        {
            return DirectResult.NotFound($"git ls-remote {url.Url}: the credential contains a line break");
        }

        // Only this credential: the hardened git has a private HOME and Warren's helper answers with it alone.
        var (result, _) = await PerHostAsync(url.Host, cancellationToken,
            () => _git.LsRemoteAsync(url.Url, timeout, cancellationToken, credential, ["HEAD"])).ConfigureAwait(false);
        return result.Status == DirectStatus.Ok ? DirectResult.Success : result with { Message = _redactor.Redact(result.Message) };
    }

    /// <summary>Removes secrets from text (URL user information, configured and .netrc passwords).</summary>
    public string Redact(string text) => _redactor.Redact(text);

    /// <summary>Marks the mirror of repoUrl as in use until the result is disposed: it is not pruned meanwhile, and its
    /// last use (which orders pruning) is now. Take it before <see cref="EnsureAsync"/> and hold it while reading the mirror.</summary>
    public IDisposable Use(string repoUrl)
    {
        if (!TryState(repoUrl, out var state, out _))
        {
            return NoLease.Instance;
        }

        lock (state.Gate)
        {
            state.Users++;
        }

        MarkUsed(state);
        return new Lease(this, state);
    }

    /// <summary>Deletes mirrors unused for longer than <see cref="GitMirrorOptions.MaxIdle"/>, then, while the mirrors
    /// take more than <see cref="GitMirrorOptions.QuotaBytes"/>, the least recently used ones. A mirror in use (a lease,
    /// or a clone or fetch under way) is never deleted: its lock is held while it is moved away. Returns how many went.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        if (_options.QuotaBytes is null && _options.MaxIdle is null)
        {
            return 0;
        }

        await _pruning.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _options.TimeProvider.GetUtcNow();
            var mirrors = new List<(string Directory, string Url, long Bytes, DateTimeOffset LastUse)>();
            foreach (var dir in Directory.EnumerateDirectories(MirrorRoot))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = Path.GetFileName(dir);
                if (name.StartsWith(StagingPrefix, StringComparison.Ordinal) || name.StartsWith(TrashPrefix, StringComparison.Ordinal) || !IsComplete(dir))
                {
                    continue;
                }

                var url = ReadCreatedUrl(dir);
                var lastUse = url is not null && _mirrors.TryGetValue(url, out var known) && known.LastUsed is { } used ? used : StampTime(dir);
                mirrors.Add((dir, url ?? "", DirectorySize(dir), lastUse));
            }

            mirrors.Sort((a, b) => a.LastUse.CompareTo(b.LastUse));
            var total = mirrors.Sum(m => m.Bytes);
            var pruned = 0;
            foreach (var m in mirrors)
            {
                var idle = _options.MaxIdle is { } maxIdle && now - m.LastUse > maxIdle;
                var over = _options.QuotaBytes is { } quota && total > quota;
                if (!idle && !over)
                {
                    continue;
                }

                if (TryRemove(m.Directory, m.Url))
                {
                    total -= m.Bytes;
                    pruned++;
                    GitMirrorLog.Pruned(_logger, m.Url.Length > 0 ? _redactor.Redact(m.Url) : m.Directory, m.Bytes, m.LastUse,
                        idle ? $"unused for more than {_options.MaxIdle}" : $"mirrors over the quota of {_options.QuotaBytes} bytes");
                }
            }

            if (_options.QuotaBytes is { } q && total > q)
            {
                GitMirrorLog.OverQuota(_logger, total, q);
            }

            return pruned;
        }
        finally
        {
            _pruning.Release();
        }
    }

    /// <summary>The total size of the files under a directory.</summary>
    public static long DirectorySize(string directory)
    {
        long total = 0;
        try
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                total += file.Length;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Vanished while counting: what was counted stands.
        }

        return total;
    }

    /// <summary>Moves the mirror away under its lock unless it is in use, then deletes it.</summary>
    private bool TryRemove(string directory, string url)
    {
        var state = url.Length > 0 && Parse(url) is { } parsed
            ? _mirrors.GetOrAdd(parsed.Url, _ => new MirrorState(parsed, directory))
            : null;
        var trash = Path.Combine(MirrorRoot, TrashPrefix + Guid.NewGuid().ToString("N"));
        if (state is not null && string.Equals(state.Directory, directory, StringComparison.Ordinal))
        {
            lock (state.Gate)
            {
                if (state.Users > 0 || state.Inflight is not null)
                {
                    return false;
                }

                if (!MoveAway(directory, trash))
                {
                    return false;
                }

                state.LastSuccess = null;
                state.StampLoaded = false;
                Changed(state);
            }
        }
        else if (!MoveAway(directory, trash))
        {
            return false;
        }

        DeleteDirectory(trash);
        return true;
    }

    private static bool MoveAway(string directory, string trash)
    {
        try
        {
            Directory.Move(directory, trash);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The URL in a mirror's creation marker ("id time url"), or null.</summary>
    private static string? ReadCreatedUrl(string directory)
    {
        try
        {
            var parts = File.ReadAllText(Path.Combine(directory, MetadataDirectory, CreatedMarker)).Trim().Split(' ', 3);
            return parts.Length == 3 ? parts[2] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>When the mirror was last used, as its stamps tell (for mirrors this process has not used): the used
    /// stamp, else the creation marker.</summary>
    private static DateTimeOffset StampTime(string directory)
    {
        var meta = Path.Combine(directory, MetadataDirectory);
        var used = Path.Combine(meta, UsedStamp);
        var time = File.GetLastWriteTimeUtc(File.Exists(used) ? used : Path.Combine(meta, CreatedMarker));
        return new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc), TimeSpan.Zero);
    }

    /// <summary>Records a use now, in memory and (at most once a minute, once the mirror exists) in its used stamp.</summary>
    private void MarkUsed(MirrorState state)
    {
        var now = _options.TimeProvider.GetUtcNow();
        lock (state.Gate)
        {
            state.LastUsed = now;
            if (now - state.LastTouched < TimeSpan.FromMinutes(1) || !Touch(state.Directory, now))
            {
                return;
            }

            state.LastTouched = now;
        }
    }

    private static bool Touch(string directory, DateTimeOffset now)
    {
        var meta = Path.Combine(directory, MetadataDirectory);
        if (!File.Exists(Path.Combine(meta, CreatedMarker)))
        {
            return false;
        }

        try
        {
            var path = Path.Combine(meta, UsedStamp);
            if (!File.Exists(path))
            {
                File.WriteAllBytes(path, []);
            }

            File.SetLastWriteTimeUtc(path, now.UtcDateTime);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Being pruned or read-only: the in-memory time still counts.
            return false;
        }
    }

    /// <summary>Refuses a repository whose mirror (at gitDir) is larger than the limit, remembering the refusal.</summary>
    private DirectResult CheckSize(MirrorState s, string gitDir)
    {
        if (_options.MaxRepositoryBytes is not { } max)
        {
            return DirectResult.Success;
        }

        var size = DirectorySize(gitDir);
        if (size <= max)
        {
            return DirectResult.Success;
        }

        var refusal = DirectResult.Failed($"git {_redactor.Redact(s.Url.Url)}: repository is {size} bytes, larger than the limit of {max} bytes (max-repo-size)");
        lock (s.Gate)
        {
            s.Refusal = refusal;
            s.RefusedUntil = _options.TimeProvider.GetUtcNow() + _options.RefusalMemory;
        }

        GitMirrorLog.TooLarge(_logger, _redactor.Redact(s.Url.Url), refusal.Message);
        return refusal;
    }

    /// <summary>Forgets the states of repositories not in use (their mirrors stay on disk), to bound the table.</summary>
    private void ForgetIdleStates()
    {
        var target = _options.MaxTrackedRepositories - (_options.MaxTrackedRepositories / 4);
        foreach (var (url, state) in _mirrors.ToArray().OrderBy(kv => kv.Value.LastUsed ?? DateTimeOffset.MinValue))
        {
            if (_mirrors.Count <= target)
            {
                break;
            }

            lock (state.Gate)
            {
                if (state.Users == 0 && state.Inflight is null && _options.TimeProvider.GetUtcNow() >= state.RefusedUntil)
                {
                    _mirrors.TryRemove(new KeyValuePair<string, MirrorState>(url, state));
                }
            }
        }
    }

    private void Release(MirrorState state)
    {
        lock (state.Gate)
        {
            state.Users--;
        }

        MarkUsed(state);
    }

    private sealed class Lease(GitMirrorManager manager, MirrorState state) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                manager.Release(state);
            }
        }
    }

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();

        public void Dispose()
        {
        }
    }

    public void Dispose()
    {
        _shutdown.Cancel();
        _shutdown.Dispose();
    }

    private GitRemoteUrl? Parse(string repoUrl) => repoUrl is null ? null : GitRemoteUrl.TryParse(repoUrl);

    private bool TryState(string repoUrl, out MirrorState state, out DirectResult invalid)
    {
        state = null!;
        invalid = DirectResult.Success;
        var url = Parse(repoUrl);
        if (url is null)
        {
            invalid = DirectResult.NotFound($"git: invalid repository URL {_redactor.Redact(repoUrl ?? "")}");
            return false;
        }

        if (!_git.IsAllowedScheme(url.Scheme))
        {
            invalid = DirectResult.NotFound($"git: repository URL scheme {url.Scheme} is not allowed: {url.Url}");
            return false;
        }

        _redactor.Add(url.EmbeddedCredential);
        if (_mirrors.Count >= _options.MaxTrackedRepositories && !_mirrors.ContainsKey(url.Url))
        {
            ForgetIdleStates();
        }

        state = _mirrors.GetOrAdd(url.Url, _ => new MirrorState(url, Path.Combine(MirrorRoot, DirectoryName(url))));
        if (url.EmbeddedCredential is not null)
        {
            state.EmbeddedCredential = url.EmbeddedCredential;
        }

        return true;
    }

    private Task<DirectResult> Start(MirrorState s, bool force, bool ensureOnly)
    {
        lock (s.Gate)
        {
            if (s.Refusal is { } refusal && _options.TimeProvider.GetUtcNow() < s.RefusedUntil)
            {
                return Task.FromResult(refusal);
            }

            var exists = IsComplete(s.Directory);
            if (exists && ensureOnly)
            {
                return Task.FromResult(DirectResult.Success);
            }

            if (s.Inflight is { } running)
            {
                return running;
            }

            if (exists && !force && IsFresh(s))
            {
                return Task.FromResult(DirectResult.Success);
            }

            // Set before the clone runs, so that a request arriving now finds it.
            var pending = exists || _options.ShallowFirstAfter is null ? null : new PendingClone(_options.TimeProvider.GetTimestamp());
            s.Pending = pending;
            var task = Task.Run(() => WorkAsync(s, exists, pending));
            s.Inflight = task;
            return task;
        }
    }

    private bool IsFresh(MirrorState s)
    {
        if (s.LastSuccess is null && !s.StampLoaded)
        {
            s.StampLoaded = true;
            var stamp = Path.Combine(s.Directory, MetadataDirectory, FreshStamp);
            if (File.Exists(stamp))
            {
                s.LastSuccess = new DateTimeOffset(File.GetLastWriteTimeUtc(stamp), TimeSpan.Zero);
            }
        }

        return s.LastSuccess is { } last && _options.TimeProvider.GetUtcNow() - last < _options.FreshnessWindow;
    }

    private async Task<DirectResult> WorkAsync(MirrorState s, bool exists, PendingClone? pending)
    {
        DirectResult result;
        try
        {
            result = exists ? await RefreshExistingAsync(s).ConfigureAwait(false) : await CloneAsync(s, pending).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            result = DirectResult.Failed($"git {s.Url.Url}: shutting down");
        }
#pragma warning disable CA1031 // Any failure becomes a result: callers get a message, never an exception with a secret in it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            result = DirectResult.Failed($"git {s.Url.Url}: {_redactor.Redact(GitFailure.LastError(ex.Message))}");
        }
        finally
        {
            lock (s.Gate)
            {
                s.Inflight = null;
            }
        }

        if (result.Status != DirectStatus.Ok)
        {
            GitMirrorLog.Failed(_logger, s.Url.Url, result.Status, result.Message);
        }

        return result;
    }

    private async Task<DirectResult> CloneAsync(MirrorState s, PendingClone? pending)
    {
        lock (s.Gate)
        {
            s.Clones++;
        }

        var succeeded = false;
        try
        {
            var result = await CloneCoreAsync(s, pending).ConfigureAwait(false);
            succeeded = result.Status == DirectStatus.Ok;
            return result;
        }
        finally
        {
            lock (s.Gate)
            {
                s.Pending = null;
                s.ShallowFetches += pending?.Fetches ?? 0;
            }

            pending?.Retire(succeeded);
        }
    }

    private async Task<DirectResult> CloneCoreAsync(MirrorState s, PendingClone? pending)
    {
        var sw = Stopwatch.StartNew();

        if (Directory.Exists(s.Directory))
        {
            // Not complete (no marker): not something this code renamed into place. Move it away, then delete it.
            var trash = Path.Combine(MirrorRoot, TrashPrefix + Guid.NewGuid().ToString("N"));
            Directory.Move(s.Directory, trash);
            DeleteDirectory(trash);
        }

        var staging = Path.Combine(MirrorRoot, $"{StagingPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        var moved = false;
        try
        {
            var init = await LocalAsync(null, ["init", "--bare", "--quiet", staging]).ConfigureAwait(false);
            if (!init.Ok)
            {
                return DirectResult.Failed($"git init: {_redactor.Redact(GitFailure.LastError(init.Stderr))}");
            }

            // Appended to the configuration git init wrote (one write, not a git process per setting).
            await File.AppendAllTextAsync(Path.Combine(staging, "config"), MirrorConfig(s.Url.Url), _stopping).ConfigureAwait(false);

            var update = await UpdateAsync(s, staging, cloning: true, pending).ConfigureAwait(false);
            if (update.Status == DirectStatus.Ok)
            {
                update = CheckSize(s, staging);
            }

            var meta = Directory.CreateDirectory(Path.Combine(staging, MetadataDirectory)).FullName;
            AppendLog(meta, "clone", update);
            if (update.Status != DirectStatus.Ok)
            {
                return update;
            }

            await File.WriteAllTextAsync(Path.Combine(meta, FreshStamp), "", _stopping).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(meta, CreatedMarker),
                $"{Guid.NewGuid():N} {_options.TimeProvider.GetUtcNow():O} {s.Url.Url}\n", _stopping).ConfigureAwait(false);
            try
            {
                Directory.Move(staging, s.Directory);
                moved = true;
            }
            catch (IOException) when (IsComplete(s.Directory))
            {
                // Another process made the same mirror first; use that one.
            }

            lock (s.Gate)
            {
                s.LastSuccess = _options.TimeProvider.GetUtcNow();
            }

            Changed(s);
            GitMirrorLog.Cloned(_logger, s.Url.Url, s.Directory, sw.Elapsed.TotalMilliseconds);
            return DirectResult.Success;
        }
        finally
        {
            if (!moved)
            {
                DeleteDirectory(staging);
            }
        }
    }

    private async Task<DirectResult> RefreshExistingAsync(MirrorState s)
    {
        var sw = Stopwatch.StartNew();
        var result = await UpdateAsync(s, s.Directory, cloning: false, pending: null).ConfigureAwait(false);
        if (result.Status == DirectStatus.Ok && CheckSize(s, s.Directory) is { Status: not DirectStatus.Ok } tooLarge)
        {
            // Grew past the limit: the mirror goes, the refusal is remembered.
            var trash = Path.Combine(MirrorRoot, TrashPrefix + Guid.NewGuid().ToString("N"));
            Directory.Move(s.Directory, trash);
            DeleteDirectory(trash);
            lock (s.Gate)
            {
                s.LastSuccess = null;
            }

            Changed(s);
            return tooLarge;
        }

        var meta = Directory.CreateDirectory(Path.Combine(s.Directory, MetadataDirectory)).FullName;
        if (result.Status == DirectStatus.Ok)
        {
            await File.WriteAllTextAsync(Path.Combine(meta, FreshStamp), "", _stopping).ConfigureAwait(false);
            lock (s.Gate)
            {
                s.LastSuccess = _options.TimeProvider.GetUtcNow();
            }

            GitMirrorLog.Fetched(_logger, s.Url.Url, sw.Elapsed.TotalMilliseconds);
        }

        return result;
    }

    /// <summary>The configuration of a new mirror: origin, its refspecs, no tag following, pruning, no reflogs.</summary>
    internal static string MirrorConfig(string url) =>
        $"[core]\n\tlogAllRefUpdates = false\n[remote \"origin\"]\n\turl = {ConfigValue(url)}\n" +
        string.Concat(FetchRefspecs.Select(r => $"\tfetch = {r}\n")) + "\ttagOpt = --no-tags\n\tprune = true\n";

    /// <summary>A value in git's configuration syntax: quoted, with backslash and double quote escaped. Line breaks and
    /// other control characters are refused (a repository URL never has them: <see cref="GitRemoteUrl.TryParse"/>).</summary>
    internal static string ConfigValue(string value)
    {
        if (value.Any(char.IsControl))
        {
            throw new ArgumentException("a git configuration value cannot hold control characters", nameof(value));
        }

        return "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>ls-remote the origin; fetch when its branches or tags differ from the mirror's; align HEAD. A new mirror
    /// (cloning) has nothing to compare: its fetch runs beside the ls-remote that tells HEAD.</summary>
    private async Task<DirectResult> UpdateAsync(MirrorState s, string gitDir, bool cloning, PendingClone? pending)
    {
        var display = s.Url.Url;

        // The URL git really uses, after url.<base>.insteadOf: credentials and the host limit follow it.
        var effective = await _git.EffectiveUrlAsync(gitDir, "origin", _options.OperationTimeout, _stopping).ConfigureAwait(false) ?? s.Url;
        if (!_git.IsAllowedScheme(effective.Scheme))
        {
            return DirectResult.NotFound($"git ls-remote {display}: rewritten to a URL whose scheme ({effective.Scheme}) is not allowed");
        }

        var credential = _git.ResolveCredential(effective, s.Url, s.EmbeddedCredential);
        if (HardenedGit.IsUnusable(credential))
        {
            return DirectResult.Failed($"git ls-remote {display}: the credential for {effective.Authority} contains a line break");
        }

        var egress = await _git.DecideEgressAsync(effective, _stopping).ConfigureAwait(false);
        if (egress.Refusal is { } refused)
        {
            return HardenedGit.Refused($"git ls-remote {display}", refused);
        }

        lock (s.Gate)
        {
            s.RemoteChecks++;
        }

        string[] fetchArgs = ["fetch", "--quiet", "--force", "--prune", "--no-tags", "--no-recurse-submodules", "origin", .. FetchRefspecs];
        var lsTask = NetworkAsync(effective, gitDir, ["ls-remote", "--symref", "origin", "HEAD", "refs/heads/*", "refs/tags/*"], credential, egress.Config);
        var cloneFetch = cloning ? CloneFetchAsync(effective, gitDir, fetchArgs, credential, egress.Config) : null;
        var ls = await lsTask.ConfigureAwait(false);
        var listing = ls.Ok ? ParseLsRemote(ls.StdoutText) : null;
        if (pending is not null)
        {
            // Requests that should not wait for the whole history read single refs fetched into a scratch directory.
            var scratch = Path.Combine(MirrorRoot, $"{StagingPrefix}{Environment.ProcessId}-shallow-{Guid.NewGuid():N}");
            pending.Shallow.TrySetResult(listing is null ? null : new ShallowClone(scratch, listing,
                async cancel =>
                {
                    var init = await LocalAsync(null, ["init", "--bare", "--quiet", scratch]).ConfigureAwait(false);
                    if (init.Ok)
                    {
                        await File.AppendAllTextAsync(Path.Combine(scratch, "config"), MirrorConfig(s.Url.Url), cancel).ConfigureAwait(false);
                    }
                },
                // Their own per-host budget: a depth-1 fetch must not queue behind whole-history clones of the same host.
                (args, _) => PerHostAsync(ShallowHostPrefix + effective.Host, _stopping,
                    () => _git.RunNetworkAsync(scratch, effective, credential, [.. args], _options.OperationTimeout, _stopping, egress.Config)),
                _git.Runner, _options.OperationTimeout, _options.MaxRepositoryBytes, _stopping, pending.MirrorReady.Task));
        }
        var cloneFetched = cloneFetch is null ? null : await cloneFetch.ConfigureAwait(false);
        if (!ls.Ok)
        {
            return GitFailure.Classify($"git ls-remote {display}", ls, _options.OperationTimeout, _redactor);
        }

        var (remoteRefs, remoteHead) = (listing!.Refs, listing.Head);
        if (cloneFetched is not null)
        {
            // An empty origin has nothing to fetch: whatever the fetch said, the mirror is as empty as the origin.
            if (!cloneFetched.Ok && remoteRefs.Count > 0)
            {
                return GitFailure.Classify($"git fetch {display}", cloneFetched, _options.OperationTimeout, _redactor);
            }

            return remoteHead is null ? DirectResult.Success : await SetHeadAsync(gitDir, remoteHead, display).ConfigureAwait(false);
        }

        var local = await LocalAsync(gitDir, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags"]).ConfigureAwait(false);
        if (!local.Ok)
        {
            return DirectResult.Failed($"git for-each-ref in mirror of {display}: {_redactor.Redact(GitFailure.LastError(local.Stderr))}");
        }

        var localRefs = ParseForEachRef(local.StdoutText);
        var changed = remoteRefs.Count != localRefs.Count || remoteRefs.Any(r => !localRefs.TryGetValue(r.Key, out var h) || h != r.Value);
        if (changed)
        {
            lock (s.Gate)
            {
                s.Fetches++;
            }

            var fetch = await NetworkAsync(effective, gitDir, fetchArgs, credential, egress.Config).ConfigureAwait(false);
            Changed(s);
            AppendLog(Path.Combine(gitDir, MetadataDirectory), "fetch", fetch.Ok ? DirectResult.Success : DirectResult.Failed(""));
            if (!fetch.Ok)
            {
                return GitFailure.Classify($"git fetch {display}", fetch, _options.OperationTimeout, _redactor);
            }
        }
        else
        {
            AppendLog(Path.Combine(gitDir, MetadataDirectory), "check", DirectResult.Success);
            GitMirrorLog.UpToDate(_logger, display);
        }

        if (remoteHead is not null)
        {
            var head = await LocalAsync(gitDir, ["symbolic-ref", "-q", "HEAD"]).ConfigureAwait(false);
            if (head.StdoutText.Trim() != remoteHead)
            {
                Changed(s);
                return await SetHeadAsync(gitDir, remoteHead, display).ConfigureAwait(false);
            }
        }

        return DirectResult.Success;
    }

    private async Task<DirectResult> SetHeadAsync(string gitDir, string remoteHead, string display)
    {
        var set = await LocalAsync(gitDir, ["symbolic-ref", "HEAD", remoteHead]).ConfigureAwait(false);
        return set.Ok
            ? DirectResult.Success
            : DirectResult.Failed($"git symbolic-ref HEAD in mirror of {display}: {_redactor.Redact(GitFailure.LastError(set.Stderr))}");
    }

    /// <summary>Held back while <see cref="HoldCloneFetches"/> is set (tests: a clone whose history takes a while).</summary>
    internal TaskCompletionSource? HoldCloneFetches { get; set; }

    private async Task<GitRun> CloneFetchAsync(GitRemoteUrl effective, string gitDir, string[] args, GitCredential? credential, IReadOnlyList<KeyValuePair<string, string>> config)
    {
        if (HoldCloneFetches is { } hold)
        {
            await hold.Task.WaitAsync(_stopping).ConfigureAwait(false);
        }

        return await NetworkAsync(effective, gitDir, args, credential, config).ConfigureAwait(false);
    }

    private Task<GitRun> NetworkAsync(GitRemoteUrl effective, string gitDir, string[] args, GitCredential? credential, IReadOnlyList<KeyValuePair<string, string>> config) =>
        PerHostAsync(effective.Host, _stopping,
            () => _git.RunNetworkAsync(gitDir, effective, credential, args, _options.OperationTimeout, _stopping, config));

    /// <summary>Runs work within the per-host limit; a host's gate exists only while an operation for it runs or waits.</summary>
    private async Task<T> PerHostAsync<T>(string hostName, CancellationToken cancellationToken, Func<Task<T>> work)
    {
        var host = hostName.ToLowerInvariant();
        HostGate gate;
        lock (_hosts)
        {
            if (!_hosts.TryGetValue(host, out gate!))
            {
                gate = new HostGate(_options.MaxConcurrentOperationsPerHost);
                _hosts[host] = gate;
            }

            gate.Users++;
        }

        try
        {
            await gate.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await work().ConfigureAwait(false);
            }
            finally
            {
                gate.Slots.Release();
            }
        }
        finally
        {
            lock (_hosts)
            {
                if (--gate.Users == 0)
                {
                    _hosts.Remove(host);
                    gate.Slots.Dispose();
                }
            }
        }
    }

    private Task<GitRun> LocalAsync(string? gitDir, string[] args) => _git.RunLocalAsync(gitDir, args, _options.OperationTimeout, _stopping);

    /// <summary>What <c>git ls-remote --symref</c> said: heads and tags with the objects they name (annotated tags not
    /// peeled, as for-each-ref shows them), the commits of the "^{}" lines, HEAD's branch and HEAD's commit.</summary>
    internal sealed record LsRemoteListing(Dictionary<string, string> Refs, Dictionary<string, string> Peeled, string? Head, string? HeadHash);

    internal static LsRemoteListing ParseLsRemote(string output)
    {
        var refs = new Dictionary<string, string>(StringComparer.Ordinal);
        var peeled = new Dictionary<string, string>(StringComparer.Ordinal);
        string? head = null;
        string? headHash = null;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab < 0)
            {
                continue;
            }

            var left = line[..tab];
            var name = line[(tab + 1)..].TrimEnd('\r');
            if (left.StartsWith("ref: ", StringComparison.Ordinal))
            {
                if (name == "HEAD" && left[5..].StartsWith("refs/heads/", StringComparison.Ordinal))
                {
                    head = left[5..];
                }

                continue;
            }

            if (name == "HEAD")
            {
                headHash = left;
                continue;
            }

            bool isPeeled = name.EndsWith("^{}", StringComparison.Ordinal);
            string bare = isPeeled ? name[..^3] : name;
            if (bare.StartsWith("refs/heads/", StringComparison.Ordinal) || bare.StartsWith("refs/tags/", StringComparison.Ordinal))
            {
                (isPeeled ? peeled : refs)[bare] = left;
            }
        }

        return new LsRemoteListing(refs, peeled, head, headHash);
    }

    private static Dictionary<string, string> ParseForEachRef(string output)
    {
        var refs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var sp = line.IndexOf(' ', StringComparison.Ordinal);
            if (sp > 0)
            {
                refs[line[(sp + 1)..]] = line[..sp];
            }
        }

        return refs;
    }

    private void AppendLog(string metaDirectory, string operation, DirectResult result)
    {
        Directory.CreateDirectory(metaDirectory);
        File.AppendAllText(Path.Combine(metaDirectory, OperationsLog),
            $"{_options.TimeProvider.GetUtcNow().UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {operation} {(result.Status == DirectStatus.Ok ? "ok" : "failed")}\n");
    }

    private static bool IsComplete(string directory) => File.Exists(Path.Combine(directory, MetadataDirectory, CreatedMarker));

    /// <summary>&lt;first 16 hex digits of sha256(url)&gt;-&lt;readable host and path&gt;.</summary>
    internal static string DirectoryName(GitRemoteUrl url)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.Url)))[..16];
        var readable = new StringBuilder();
        foreach (var ch in (url.Host + url.Path).ToLowerInvariant())
        {
            var ok = ch is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_';
            if (ok)
            {
                readable.Append(ch);
            }
            else if (readable.Length > 0 && readable[^1] != '-')
            {
                readable.Append('-');
            }
        }

        var name = readable.ToString().Trim('-', '.');
        if (name.EndsWith(".git", StringComparison.Ordinal))
        {
            name = name[..^4];
        }

        if (name.Length > 60)
        {
            name = name[..60].TrimEnd('-', '.');
        }

        return name.Length == 0 ? hash : hash + "-" + name;
    }

    /// <summary>Deletes staging directories of processes that are gone (a crash mid-clone) and trash of interrupted
    /// replacements; a staging directory of a live process is left alone unless it is a day old.</summary>
    private void CleanLeftovers()
    {
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(MirrorRoot))
        {
            var name = Path.GetFileName(dir);
            var remove = name.StartsWith(TrashPrefix, StringComparison.Ordinal);
            if (name.StartsWith(StagingPrefix, StringComparison.Ordinal))
            {
                var pidText = name[StagingPrefix.Length..].Split('-')[0];
                var alive = int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId && IsAlive(pid);
                remove = !alive || _options.TimeProvider.GetUtcNow().UtcDateTime - Directory.GetLastWriteTimeUtc(dir) > TimeSpan.FromDays(1);
            }

            if (remove)
            {
                DeleteDirectory(dir);
                removed++;
            }
        }

        if (removed > 0)
        {
            GitMirrorLog.CleanedLeftovers(_logger, removed);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    internal static void DeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                // git makes pack files read-only; Directory.Delete copes on Unix, clear the attribute for Windows.
                foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                {
                    File.SetAttributes(f, FileAttributes.Normal);
                }

                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class MirrorState(GitRemoteUrl url, string directory)
    {
        public GitRemoteUrl Url { get; } = url;

        public string Directory { get; } = directory;

        public Lock Gate { get; } = new();

        public Task<DirectResult>? Inflight { get; set; }

        /// <summary>See <see cref="GenerationOf"/> (a field, for Volatile and Interlocked).</summary>
#pragma warning disable CA1051, SA1401 // Read and written only with Volatile.
        public long Generation;
#pragma warning restore CA1051, SA1401

        public DateTimeOffset? LastSuccess { get; set; }

        public bool StampLoaded { get; set; }

        public GitCredential? EmbeddedCredential { get; set; }

        public int Clones { get; set; }

        public int Fetches { get; set; }

        public int RemoteChecks { get; set; }

        public int ShallowFetches { get; set; }

        /// <summary>The clone under way, while there is one (for <see cref="EnsureOrShallowAsync"/>).</summary>
        public PendingClone? Pending { get; set; }

        /// <summary>Leases held (<see cref="Use"/>): while any is, the mirror is not pruned.</summary>
        public int Users { get; set; }

        public DateTimeOffset? LastUsed { get; set; }

        public DateTimeOffset LastTouched { get; set; }

        public DirectResult? Refusal { get; set; }

        public DateTimeOffset RefusedUntil { get; set; }
    }

    /// <summary>A clone under way and the shallow copy its ls-remote made possible; the copy is deleted once the clone is
    /// over and the last request reading it is done.</summary>
    internal sealed class PendingClone(long started)
    {
        /// <summary>When the clone started (<see cref="TimeProvider.GetTimestamp"/>).</summary>
        public long Started { get; } = started;

        private readonly Lock _gate = new();
        private int _users;
        private bool _retired;

        public TaskCompletionSource<ShallowClone?> Shallow { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>True once the clone made the mirror, false when it failed.</summary>
        public TaskCompletionSource<bool> MirrorReady { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Fetches => Shallow.Task.IsCompletedSuccessfully && Shallow.Task.Result is { } c ? c.Fetches : 0;

        public bool TryAcquire()
        {
            lock (_gate)
            {
                if (_retired)
                {
                    return false;
                }

                _users++;
                return true;
            }
        }

        public void Release()
        {
            lock (_gate)
            {
                if (--_users > 0 || !_retired)
                {
                    return;
                }
            }

            Dispose();
        }

        public void Retire(bool mirrorMade)
        {
            Shallow.TrySetResult(null);
            MirrorReady.TrySetResult(mirrorMade);
            lock (_gate)
            {
                _retired = true;
                if (_users > 0)
                {
                    return;
                }
            }

            Dispose();
        }

        private void Dispose()
        {
            if (Shallow.Task.IsCompletedSuccessfully && Shallow.Task.Result is { } c)
            {
                c.Dispose();
            }
        }
    }

    private sealed class ShallowAccess(PendingClone pending, ShallowClone clone) : IShallowAccess
    {
        private int _disposed;

        public ShallowClone Clone { get; } = clone;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                pending.Release();
            }
        }
    }

    private sealed class HostGate(int slots)
    {
        public SemaphoreSlim Slots { get; } = new(slots, slots);

        public int Users { get; set; }
    }
}

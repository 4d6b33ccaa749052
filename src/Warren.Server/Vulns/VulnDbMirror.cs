using Microsoft.Extensions.Hosting;
using Warren.Core.Vulns;
using Warren.Protocol.VulnDb;

namespace Warren.Server.Vulns;

/// <summary>How the last refresh went (for tests and diagnostics).</summary>
public sealed record VulnDbRefreshStatus(string Source, DateTimeOffset? LastAttempt, DateTimeOffset? LastSuccess, string? LastError, long Refreshes, long NotModified);

/// <summary>The mirror of the Go vulnerability database: one immutable copy in memory (<see cref="VulnDbSnapshot"/>),
/// the last good one kept on disk under ROOT/.warren/vulndb/ and served stale while the source fails (also after a
/// restart). It starts lazily: on the first /vuln/ request, the first use of the catalog, or at start-up when a
/// component registered an <see cref="IAdvisoryRefreshObserver"/>. Then it refreshes every --vulndb-interval: a
/// conditional request for index/db.json; when its "modified" moved, index/vulns.json, and only the entries whose
/// "modified" changed. After each new copy every observer hears of the new and changed entries.</summary>
public sealed class VulnDbMirror : IAdvisoryCatalog, IDisposable
{
    /// <summary>The name of the outbound client in the <see cref="IHttpClientFactory"/> (egress policy applies).</summary>
    public const string ClientName = "warren-vulndb";

    /// <summary>How long a request waits for the very first copy when none is stored.</summary>
    private static readonly TimeSpan FirstLoadWait = TimeSpan.FromMinutes(2);

    private const int FetchConcurrency = 8;

    private readonly VulnDbSource _source;
    private readonly string _root;
    private readonly bool _offline;
    private readonly TimeSpan _interval;
    private readonly VulnDbLimits _limits;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger<VulnDbMirror> _logger;
    private readonly VulnDbMetrics? _metrics;
    private readonly CancellationTokenSource _stopping;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile VulnDbSnapshot? _current;
    private VulnDbState? _state;
    private int _started;
    private int _disposed;
    private long _generation;
    private long _refreshes;
    private long _notModified;
    private DateTimeOffset? _lastAttempt;
    private DateTimeOffset? _lastSuccess;
    private string? _lastError;

    public VulnDbMirror(VulnDbSource source, IOptions<WarrenOptions> options, IServiceProvider services, TimeProvider time, IHostApplicationLifetime lifetime,
        ILogger<VulnDbMirror> logger, VulnDbLimits? limits = null, VulnDbMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        _source = source;
        _root = Path.GetFullPath(options.Value.Root!);
        _offline = options.Value.Offline;
        _interval = options.Value.VulnDbInterval;
        _limits = limits ?? VulnDbLimits.Default;
        _services = services;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
    }

    /// <summary>The copy served now; null before the first load (or when none could be had).</summary>
    public VulnDbSnapshot? Current => _current;

    public VulnDbRefreshStatus Status => new(_source.Name, _lastAttempt, _lastSuccess, _lastError, Interlocked.Read(ref _refreshes), Interlocked.Read(ref _notModified));

    public bool IsAvailable
    {
        get
        {
            EnsureStarted();
            return _current is not null;
        }
    }

    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>True while a copy is served although the latest refresh from the source failed.</summary>
    public bool IsStale => _lastError is not null && _current is not null;

    public async ValueTask<IReadOnlyList<Advisory>> ForModuleAsync(string modulePath, CancellationToken cancellationToken) =>
        (await GetSnapshotAsync(cancellationToken).ConfigureAwait(false))?.ForModule(modulePath) ?? [];

    public async ValueTask<IReadOnlyList<Advisory>> AllAsync(CancellationToken cancellationToken) =>
        (await GetSnapshotAsync(cancellationToken).ConfigureAwait(false))?.Entries ?? [];

    /// <summary>The copy to serve: the current one; before the first load, waits (a bounded time) for it. Null when
    /// there is none (see <see cref="Status"/> for why).</summary>
    public async Task<VulnDbSnapshot?> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        EnsureStarted();
        if (_current is { } current)
        {
            return current;
        }

        try
        {
            await _firstAttempt.Task.WaitAsync(FirstLoadWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        return _current;
    }

    /// <summary>Starts loading (the stored copy, then the source) and the periodic refresh, once.</summary>
    public void EnsureStarted()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _ = Task.Run(() => RunAsync(_stopping.Token));
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            if (LoadStored() is { Count: > 0 } all)
            {
                await NotifyAsync(all).ConfigureAwait(false);
            }

            if (_current is not null)
            {
                _firstAttempt.TrySetResult();
            }

            if (_offline && _source.IsRemote)
            {
                Log.VulnDbOffline(_logger, _source.Name);
                _lastError = _current is null ? "offline, and no stored copy (bring one in with warren import vulndb.zip)" : null;
                _firstAttempt.TrySetResult();
                return;
            }

            while (!ct.IsCancellationRequested)
            {
                await RefreshAsync(ct).ConfigureAwait(false);
                _firstAttempt.TrySetResult();
                await Task.Delay(_interval, _time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            _firstAttempt.TrySetResult();
        }
    }

    private IReadOnlyList<Advisory>? LoadStored()
    {
        try
        {
            if (VulnDbStoredCopy.Load(_root, _limits) is { } stored)
            {
                _state = stored.State;
                Log.VulnDbStoredLoaded(_logger, stored.Snapshot.Entries.Count, stored.Snapshot.Modified);
                return Install(stored.Snapshot);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OsvFormatException or InvalidDataException)
        {
            Log.VulnDbStoredUnusable(_logger, VulnDbStoredCopy.ZipPath(_root), HttpDownloaderOneLine(e));
        }

        return null;
    }

    /// <summary>One refresh from the source; failures are logged and kept in <see cref="Status"/> (the last good copy
    /// stays served). True when a new copy was loaded.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _lastAttempt = _time.GetUtcNow();
            var loaded = await RefreshCoreAsync(cancellationToken).ConfigureAwait(false);
            _lastError = null;
            _lastSuccess = _lastAttempt;
            return loaded;
        }
        catch (Exception e) when (e is IOException or OsvFormatException or InvalidDataException or UnauthorizedAccessException or HttpRequestException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _lastError = HttpDownloaderOneLine(e);
            _metrics?.RefreshFailed();
            Log.VulnDbRefreshFailed(_logger, _source.Name, _current is { } c ? VulnDbSnapshot.FormatTime(c.Modified) : "none", _lastError);
            return false;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private async Task<bool> RefreshCoreAsync(CancellationToken ct)
    {
        var current = _current;
        var validators = current is not null && _state is { } state && state.Source == _source.Name ? new VulnDbValidators(state.ETag, state.LastModified) : null;
        if (_source is ZipVulnDbSource)
        {
            var zip = await _source.GetAsync(VulnDbArchive.FileName, validators, MaxZipBytes, ct).ConfigureAwait(false);
            if (zip.Status == VulnDbStatus.NotModified)
            {
                return Unchanged("not modified");
            }

            using var stream = new MemoryStream(zip.Body, writable: false);
            return await StoreAsync(VulnDbArchive.Read(stream, _limits), zip, fetched: 1).ConfigureAwait(false);
        }

        var db = await _source.GetAsync("index/db.json", validators, _limits.MaxIndexBytes, ct).ConfigureAwait(false);
        switch (db.Status)
        {
            case VulnDbStatus.NotModified:
                return Unchanged("not modified");
            case VulnDbStatus.NotFound:
                throw new IOException($"{_source.Name}/index/db.json: not found; Warren mirrors a database in the current layout (index/db.json, index/vulns.json, ID/ID.json)");
        }

        var modified = VulnDbArchive.ParseDbJson(db.Body);
        if (current is not null && modified == current.Modified)
        {
            _state = new VulnDbState(_source.Name, db.ETag, db.LastModified, _time.GetUtcNow());
            TrySaveState();
            return Unchanged("same modified time");
        }

        var vulns = await _source.GetAsync("index/vulns.json", null, _limits.MaxIndexBytes, ct).ConfigureAwait(false);
        if (vulns.Status != VulnDbStatus.Ok)
        {
            throw new IOException($"{_source.Name}/index/vulns.json: not found");
        }

        var list = VulnDbArchive.ParseVulnsJson(vulns.Body, _limits.MaxEntries);
        var entries = new Advisory[list.Count];
        var fetched = 0;
        long total = 0;
        var toFetch = new List<int>();
        for (var i = 0; i < list.Count; i++)
        {
            if (current is not null && current.TryGetEntry(list[i].Id, out var known) && known.Modified == list[i].Modified)
            {
                entries[i] = known;
                total += known.RawJson.Length;
            }
            else
            {
                toFetch.Add(i);
            }
        }

        await Parallel.ForEachAsync(toFetch, new ParallelOptions { MaxDegreeOfParallelism = FetchConcurrency, CancellationToken = ct }, async (i, token) =>
        {
            var path = "ID/" + list[i].Id + ".json";
            var answer = await _source.GetAsync(path, null, OsvReader.MaxEntryBytes, token).ConfigureAwait(false);
            if (answer.Status != VulnDbStatus.Ok)
            {
                throw new IOException($"{_source.Name}/{path}: listed in index/vulns.json but not found");
            }

            var entry = VulnDbArchive.ParseEntry(answer.Body, path);
            if (entry.Id != list[i].Id)
            {
                throw new OsvFormatException($"{path} holds entry {VulnDbSnapshot.Printable(entry.Id)}");
            }

            if (Interlocked.Add(ref total, answer.Body.Length) > _limits.MaxTotalBytes)
            {
                throw new IOException($"the database exceeds {_limits.MaxTotalBytes} bytes");
            }

            entries[i] = entry;
            Interlocked.Increment(ref fetched);
        }).ConfigureAwait(false);

        return await StoreAsync(new VulnDbSnapshot(entries, modified), db, fetched).ConfigureAwait(false);
    }

    private int MaxZipBytes => (int)Math.Min(int.MaxValue, _limits.MaxTotalBytes);

    private bool Unchanged(string how)
    {
        Interlocked.Increment(ref _notModified);
        _metrics?.RefreshNotModified();
        Log.VulnDbUnchanged(_logger, _source.Name, how);
        return false;
    }

    private async Task<bool> StoreAsync(VulnDbSnapshot snapshot, VulnDbResponse validators, int fetched)
    {
        _state = new VulnDbState(_source.Name, validators.ETag, validators.LastModified, _time.GetUtcNow());
        try
        {
            VulnDbStoredCopy.Save(_root, snapshot, _state);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.VulnDbStoreFailed(_logger, VulnDbStoredCopy.DirectoryOf(_root), HttpDownloaderOneLine(e));
        }

        var changed = Install(snapshot);
        Interlocked.Increment(ref _refreshes);
        _metrics?.RefreshLoaded(fetched);
        Log.VulnDbRefreshed(_logger, _source.Name, snapshot.Entries.Count, changed.Count, fetched, snapshot.Modified);
        await NotifyAsync(changed).ConfigureAwait(false);
        return true;
    }

    private void TrySaveState()
    {
        try
        {
            VulnDbStoredCopy.SaveState(_root, _state!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.VulnDbStoreFailed(_logger, VulnDbStoredCopy.DirectoryOf(_root), HttpDownloaderOneLine(e));
        }
    }

    /// <summary>Serves the copy from now on; the entries new or changed since the previous copy (all of them on the first).</summary>
    private IReadOnlyList<Advisory> Install(VulnDbSnapshot snapshot)
    {
        var previous = _current;
        var changed = previous is null
            ? snapshot.Entries
            : snapshot.Entries.Where(e => !previous.TryGetEntry(e.Id, out var old) || old.Modified != e.Modified).ToArray();
        _current = snapshot;
        Interlocked.Increment(ref _generation);
        _firstAttempt.TrySetResult();
        return changed;
    }

    private async Task NotifyAsync(IReadOnlyList<Advisory> changed)
    {
        if (changed.Count == 0)
        {
            return;
        }

        foreach (var observer in _services.GetServices<IAdvisoryRefreshObserver>())
        {
            try
            {
                await observer.OnAdvisoriesChangedAsync(changed, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
            {
                Log.VulnDbObserverFailed(_logger, observer.GetType().Name, e);
            }
        }
    }

    private static string HttpDownloaderOneLine(Exception e) => Upstream.HttpDownloader.OneLine(e);

    public void Dispose()
    {
        // Registered under two services, so disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
        _refreshGate.Dispose();
    }
}

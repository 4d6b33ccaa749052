using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Warren.Core.Limits;
using Warren.Core.Modules;
using Warren.Server.Ingest;
using Warren.Storage.Retention;

namespace Warren.Server.Storage;

/// <summary>Gathers, in memory and off the hot path, how each version is used (last access, zip downloads) and how
/// many bytes the store gained, for <see cref="StoreRetention"/> to write to the index in batches. At most
/// <see cref="MaxPending"/> versions wait; usage of further versions is dropped (and counted) until the next flush.</summary>
public sealed class UsageTracker(TimeProvider time)
{
    /// <summary>The most versions whose usage waits in memory between two flushes.</summary>
    public const int MaxPending = 50_000;

    private readonly PendingCounts<(string Module, string Version)> _pending = new(MaxPending);
    private long _grown;
    private long _reserved;
    private long _dropped;

    /// <summary>Bytes stored since the store was last measured.</summary>
    public long Grown => Interlocked.Read(ref _grown);

    /// <summary>Bytes of files about to be stored (reserved, not yet committed).</summary>
    public long Reserved => Interlocked.Read(ref _reserved);

    /// <summary>Usage dropped because too many versions were waiting.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Raised when the store grew (the quota service wakes up).</summary>
    public event Action? StoreGrew;

    /// <summary>A request was answered with one of a version's files; a zip counts as a download.</summary>
    public void Touch(string modulePath, string version, ArtifactKind kind)
    {
        if (!_pending.Add((modulePath, version), kind == ArtifactKind.Zip ? 1 : 0, time.GetUtcNow().UtcTicks))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Waits, when the store is over its quota, until an eviction pass made room (set by the quota service).</summary>
    public Func<CancellationToken, Task>? Admission { get; set; }

    /// <summary>Counts a file about to be stored and, when that takes the store over its quota, waits for room. Every
    /// call is followed by one <see cref="Committed"/>.</summary>
    public Task ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _reserved, bytes);
        StoreGrew?.Invoke();
        return Admission?.Invoke(cancellationToken) ?? Task.CompletedTask;
    }

    /// <summary>A reserved file was stored (stored true) or not (it was there already, or the write failed).</summary>
    public void Committed(long bytes, bool stored)
    {
        if (stored)
        {
            Interlocked.Add(ref _grown, bytes);
        }

        Interlocked.Add(ref _reserved, -bytes);
    }

    /// <summary>Forgets growth a new measurement of the store includes.</summary>
    public void Measured(long grown) => Interlocked.Add(ref _grown, -grown);

    /// <summary>The usage gathered since the last call, one entry per version.</summary>
    public IReadOnlyCollection<VersionUsage> TakeBatch()
    {
        return _pending.TakeAll().Select(e => new VersionUsage(e.Key.Module, e.Key.Version,
            new DateTimeOffset(e.LastTicks, TimeSpan.Zero), e.Count)).ToList();
    }
}

/// <summary>Writes the gathered usage to the index every <see cref="WarrenOptions.UsageFlushInterval"/> and at
/// shutdown, and, with <see cref="WarrenOptions.StoreQuota"/>, keeps the store's module files under the quota: when
/// they take more than 90% of it (the high-water mark), the least recently used versions not matching the --private
/// patterns are evicted until they take at most 80% of it (the low-water mark). The room between the high-water mark
/// and the quota takes what is downloaded while an eviction runs.</summary>
public sealed class StoreRetention : BackgroundService
{
    /// <summary>Eviction starts above this share of the quota.</summary>
    public const double HighWater = 0.9;

    /// <summary>Eviction brings the store down to this share of the quota.</summary>
    public const double LowWater = 0.8;

    /// <summary>How long a download over the quota waits for an eviction pass at most.</summary>
    public static readonly TimeSpan AdmissionWait = TimeSpan.FromSeconds(30);

    private readonly IModuleIndex _index;
    private readonly UsageTracker _usage;
    private readonly WarrenOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<StoreRetention> _logger;
    private readonly StoreCollector _collector;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _passDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _roomReachable = true;
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private long _size = -1;

    public StoreRetention(IArtifactStore store, IModuleIndex index, UsageTracker usage, ModuleService service, IOptions<WarrenOptions> options,
        TimeProvider time, ILogger<StoreRetention> logger)
    {
        _index = index;
        _usage = usage;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _collector = new StoreCollector(store, index, time) { OnEvicted = v => service.Forget(v.ModulePath, v.Version) };
        usage.StoreGrew += OnStoreGrew;
        if (_options.StoreQuotaSize.Bytes is not null)
        {
            usage.Admission = WaitForRoomAsync;
        }
    }

    /// <summary>Over the quota itself (not just the high-water mark), a download waits for the eviction pass under way
    /// before it is stored, so the store stays under the quota while clients fetch faster than it evicts; unless the
    /// last pass could not make room (everything left is kept), or the pass takes longer than <see cref="AdmissionWait"/>.</summary>
    private async Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + AdmissionWait;
        while (_options.StoreQuotaSize.Bytes is { } quota && EstimatedSize > quota && _roomReachable && _time.GetUtcNow() < deadline)
        {
            var done = Volatile.Read(ref _passDone).Task;
            Volatile.Read(ref _wake).TrySetResult();
            try
            {
                var left = deadline - _time.GetUtcNow();
                await done.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Stored anyway: a slow eviction is no reason to fail a client.
            }
        }
    }

    /// <summary>The store's module files in bytes as last measured, plus what was stored and reserved since (-1 before
    /// the first measurement).</summary>
    public long EstimatedSize => Interlocked.Read(ref _size) is var size and >= 0 ? size + _usage.Grown + _usage.Reserved : -1;

    private void OnStoreGrew()
    {
        if (_options.StoreQuotaSize.Bytes is { } quota && EstimatedSize > quota * HighWater)
        {
            Volatile.Read(ref _wake).TrySetResult();
        }
    }

    /// <summary>Writes the usage gathered so far to the index.</summary>
    public async Task FlushUsageAsync(CancellationToken cancellationToken)
    {
        await _flushGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var batch = _usage.TakeBatch();
            if (batch.Count > 0)
            {
                await _index.RecordUsageAsync(batch, cancellationToken).ConfigureAwait(false);
                Log.UsageFlushed(_logger, batch.Count);
            }
        }
        finally
        {
            _flushGate.Release();
        }
    }

    /// <summary>Measures the store and, above the high-water mark, evicts down to the low-water mark. Returns what was done (null
    /// without a quota).</summary>
    public async Task<CollectionResult?> EnforceQuotaAsync(CancellationToken cancellationToken)
    {
        if (_options.StoreQuotaSize.Bytes is not { } quota)
        {
            return null;
        }

        await FlushUsageAsync(cancellationToken).ConfigureAwait(false);
        // The growth until now is in the scan; until the pass ends, the estimate keeps counting it.
        var grown = _usage.Grown;
        var versions = await _collector.ScanAsync(cancellationToken).ConfigureAwait(false);
        var size = versions.Sum(v => v.Size);

        // Downloads waiting to be stored need room too.
        var reserved = _usage.Reserved;
        if (size + reserved <= quota * HighWater)
        {
            SetMeasured(size, grown);
            _roomReachable = true;
            return new CollectionResult(versions.Count, size, size, 0, [], DryRun: false);
        }

        var keep = GlobList.Parse(_options.Private);
        var request = new CollectionRequest(Math.Max(0, (long)(quota * LowWater) - reserved), null, RetentionPolicy.Lru, keep, DryRun: false);
        var plan = StoreCollector.Plan(versions, request, _time.GetUtcNow());
        foreach (var batch in plan.Chunk(StoreCollector.EvictionBatch))
        {
            await _collector.EvictAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        var result = new CollectionResult(versions.Count, size, size - plan.Sum(v => v.Size), versions.Count(v => keep.Matches(v.ModulePath)), plan, DryRun: false);
        SetMeasured(result.SizeAfter, grown);
        _roomReachable = result.SizeAfter + reserved <= quota;
        Log.QuotaEnforced(_logger, result.Evicted.Count, result.SizeBefore, result.SizeAfter, quota);
        if (result.SizeAfter > quota)
        {
            Log.QuotaUnreachable(_logger, result.SizeAfter, quota);
        }

        return result;
    }

    private void SetMeasured(long size, long grown)
    {
        Interlocked.Exchange(ref _size, size);
        _usage.Measured(grown);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var flushing = FlushLoopAsync(stoppingToken);
        if (_options.StoreQuotaSize.Bytes is not null)
        {
            await QuotaLoopAsync(stoppingToken).ConfigureAwait(false);
        }

        await flushing.ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // What was gathered since the last flush is not lost at shutdown.
            await FlushUsageAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RetentionFailed(_logger, ex);
        }
    }

    private async Task FlushLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.UsageFlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunSafelyAsync(() => FlushUsageAsync(stoppingToken)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task QuotaLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _wake, wake);
                await RunSafelyAsync(() => EnforceQuotaAsync(stoppingToken)).ConfigureAwait(false);
                Interlocked.Exchange(ref _passDone, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

                // Woken when the store grows past the quota; measured again every maintenance interval regardless
                // (other nodes and tools write to the store too).
                using var delay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var tick = Task.Delay(_options.MaintenanceInterval, _time, delay.Token);
                await Task.WhenAny(wake.Task, tick).ConfigureAwait(false);
                await delay.CancelAsync().ConfigureAwait(false);
                stoppingToken.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunSafelyAsync(Func<Task> work)
    {
        try
        {
            await work().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RetentionFailed(_logger, ex);
        }
    }

    public override void Dispose()
    {
        _usage.StoreGrew -= OnStoreGrew;
        _flushGate.Dispose();
        base.Dispose();
    }
}

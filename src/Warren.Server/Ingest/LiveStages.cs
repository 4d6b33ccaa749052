using Microsoft.Win32.SafeHandles;
using Warren.Storage.FileSystem;

namespace Warren.Server.Ingest;

/// <summary>Zips being downloaded from an upstream proxy that requests may read while they arrive
/// (<see cref="WarrenOptions.StreamFetchedZips"/>). The downloader begins a <see cref="LiveStage"/> for the staged file of
/// a zip and reports what it appends; a request that watches the version reads the staged file up to what was appended,
/// and learns from the ingest whether the zip was verified. Only a source that appends announces a stage (a proxy over
/// http); direct mode, which builds its zip with seeks, never does, and its requests wait for the stored zip.</summary>
public sealed class LiveStages
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LiveStage> _writing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LiveWatch> _watches = new(StringComparer.Ordinal);

    // Zips whose stream was cut short lately: their next requests wait for the verdict, and so get its reason.
    private readonly Warren.Core.Limits.BoundedCache<bool> _cut;

    public LiveStages(IOptions<WarrenOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        Threshold = options.Value.StreamFetchedZipsSize.Bytes;
        _cut = new(1024, time: time);
    }

    /// <summary>How long a zip whose stream was cut short is not streamed again.</summary>
    public static readonly TimeSpan CutMemory = TimeSpan.FromMinutes(5);

    /// <summary>True when key's zip may be streamed: streaming is on and its last stream was not cut short lately.</summary>
    public bool MayStream(string key) => Enabled && !_cut.TryGet(key, out _);

    /// <summary>Key's stream was cut short (its download failed, or the zip was refused): for <see cref="CutMemory"/>,
    /// requests for it wait for the stored zip or the reason it was refused, as without streaming.</summary>
    public void Cut(string key) => _cut.Set(key, true, CutMemory);

    /// <summary>The smallest declared size that is streamed; null when streaming is off.</summary>
    public long? Threshold { get; }

    /// <summary>True when fetched zips may be streamed.</summary>
    public bool Enabled => Threshold is not null;

    /// <summary>A stage for a zip (key: <see cref="ModuleIngestor.Key"/>) about to be downloaded into path; null when
    /// streaming is off. The downloader calls <see cref="LiveStage.Start"/> when the body begins and
    /// <see cref="LiveStage.End"/> when the file is complete or abandoned.</summary>
    public LiveStage? Begin(string key, string path) => Enabled ? new LiveStage(this, key, path) : null;

    /// <summary>Watches key until disposed: <see cref="LiveWatch.Found"/> completes with the first stage of it that starts
    /// (or is under way) and is large enough to stream.</summary>
    public LiveWatch Watch(string key)
    {
        lock (_gate)
        {
            if (!_watches.TryGetValue(key, out var watch))
            {
                watch = new LiveWatch(this, key);
                _watches.Add(key, watch);
            }

            watch.Refs++;
            if (_writing.TryGetValue(key, out var stage))
            {
                watch.Complete(stage);
            }

            return watch;
        }
    }

    /// <summary>Stages being written plus keys watched: both drop to zero when nothing is under way.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _writing.Count + _watches.Count;
            }
        }
    }

    internal void Announce(LiveStage stage)
    {
        lock (_gate)
        {
            _writing[stage.Key] = stage;
            if (_watches.TryGetValue(stage.Key, out var watch))
            {
                watch.Complete(stage);
            }
        }
    }

    internal void Ended(LiveStage stage)
    {
        lock (_gate)
        {
            if (_writing.TryGetValue(stage.Key, out var current) && ReferenceEquals(current, stage))
            {
                _writing.Remove(stage.Key);
            }
        }
    }

    internal void Unwatch(LiveWatch watch)
    {
        lock (_gate)
        {
            if (--watch.Refs == 0)
            {
                _watches.Remove(watch.Key);
            }
        }
    }
}

/// <summary>A request's interest in a zip's stage; dispose it once the stage is taken or no longer wanted.</summary>
public sealed class LiveWatch : IDisposable
{
    private readonly LiveStages _owner;
    private readonly TaskCompletionSource<LiveStage> _found = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    internal LiveWatch(LiveStages owner, string key)
    {
        _owner = owner;
        Key = key;
    }

    internal string Key { get; }

    // Guarded by the owner's lock.
    internal int Refs { get; set; }

    /// <summary>Completes with the first stage of the key that is streamed.</summary>
    public Task<LiveStage> Found => _found.Task;

    internal void Complete(LiveStage stage) => _found.TrySetResult(stage);

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _owner.Unwatch(this);
        }
    }
}

/// <summary>One download of a zip into a staged file, as others may read it: the bytes appended so far, the size the
/// upstream declared (null when it declared none), and whether the download ended complete.</summary>
public sealed class LiveStage
{
    private readonly LiveStages _owner;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _written;
    private int _state; // 0 writing, 1 ended complete, 2 ended incomplete
    private int _undeclared; // 1: no declared size and not announced yet; 2: announced once large enough

    internal LiveStage(LiveStages owner, string key, string path)
    {
        _owner = owner;
        Key = key;
        Path = path;
    }

    public string Key { get; }

    public string Path { get; }

    /// <summary>The body's size as the upstream declared it; null when it did not (chunked, or encoded).</summary>
    public long? DeclaredLength { get; private set; }

    /// <summary>Bytes appended to the staged file so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>True once the download ended, complete or not.</summary>
    public bool HasEnded => Volatile.Read(ref _state) != 0;

    /// <summary>True once the download ended with the whole body in the file.</summary>
    public bool EndedComplete => Volatile.Read(ref _state) == 1;

    /// <summary>The body begins: requests watching the key may read it, if it is large enough to stream (with no declared
    /// size, once that much has arrived).</summary>
    public void Start(long? declaredLength)
    {
        DeclaredLength = declaredLength;
        if (declaredLength is null)
        {
            Volatile.Write(ref _undeclared, 1);
            AnnounceIfLargeEnough();
        }
        else if (declaredLength >= _owner.Threshold)
        {
            _owner.Announce(this);
        }
    }

    private void AnnounceIfLargeEnough()
    {
        if (Volatile.Read(ref _undeclared) == 1 && Written >= _owner.Threshold && Interlocked.Exchange(ref _undeclared, 2) == 1)
        {
            _owner.Announce(this);
        }
    }

    /// <summary>A stream that writes to file and reports each write as appended.</summary>
    public Stream Wrap(Stream file) => new AppendReporter(file, this);

    /// <summary>The download ended; complete when the whole body is in the file.</summary>
    public void End(bool complete)
    {
        if (Interlocked.CompareExchange(ref _state, complete ? 1 : 2, 0) == 0)
        {
            _owner.Ended(this);
            Signal();
        }
    }

    /// <summary>Returns when more than seen bytes were appended, or the download ended.</summary>
    public async Task WaitForMoreAsync(long seen, CancellationToken cancellationToken)
    {
        var changed = Volatile.Read(ref _changed);
        if (Written > seen || HasEnded)
        {
            return;
        }

        await changed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A read handle on the staged file that takes no lock, so it never stands in the way of the commit;
    /// it stays valid after the file is renamed into the store or deleted. Null when the file is already gone.</summary>
    public SafeFileHandle? OpenReader() => StoreFiles.OpenReadUnlocked(Path);

    private void Appended(int count)
    {
        Interlocked.Add(ref _written, count);
        AnnounceIfLargeEnough();
        Signal();
    }

    private void Signal() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private sealed class AppendReporter(Stream inner, LiveStage stage) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            stage.Appended(count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            stage.Appended(buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}

using Microsoft.Win32.SafeHandles;
using Warren.Core.Limits;
using Warren.Server.Storage;

namespace Warren.Server.Endpoints;

/// <summary>An immutable stored file kept open, with what its response headers need. It is reference-counted: the
/// cache holds one reference, each response reading it another (<see cref="TryAcquire"/>); the handle is closed
/// when the last one is let go, on the thread that lets it go (never by a finalizer).</summary>
public sealed class OpenArtifact(SafeFileHandle handle, string path, long length, DateTimeOffset lastModified, string eTag)
{
    private int _references = 1;

    public SafeFileHandle Handle { get; } = handle ?? throw new ArgumentNullException(nameof(handle));

    public string Path { get; } = path;

    public long Length { get; } = length;

    public DateTimeOffset LastModified { get; } = lastModified;

    public string ETag { get; } = eTag;

    /// <summary>References held now (the cache's and the responses'); 0 once the handle is closed.</summary>
    public int References => Math.Max(0, Volatile.Read(ref _references));

    /// <summary>Takes a reference; false when the handle is already closed.</summary>
    public bool TryAcquire()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Lets a reference go; the last one closes the handle.</summary>
    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            Handle.Dispose();
        }
        else if (left < 0)
        {
            throw new InvalidOperationException($"{Path}: released more often than acquired");
        }
    }
}

/// <summary>Open handles of hot immutable files (like nginx's open_file_cache): a warm request costs a lookup and the
/// reads, not an open, stat and close. Files are never rewritten, so an open handle never goes stale. At most capacity
/// handles are held; an evicted handle is closed at once, or, when a response is still reading it (see
/// <see cref="OpenArtifact.TryAcquire"/>), when that response ends. Disposing the cache (at shutdown) lets go of
/// every handle it holds the same way.</summary>
public sealed class OpenFileCache(int capacity = 512) : IDisposable
{
    private readonly BoundedCache<OpenArtifact> _open = new(capacity, onEvicted: static f => f.Release());
    private volatile bool _disposed;

    public int Count => _open.Count;

    public bool TryGet(string key, out OpenArtifact file) => _open.TryGet(key, out file);

    /// <summary>The cached file under key with a reference taken for the caller, who must <see cref="OpenArtifact.Release"/> it.</summary>
    public bool TryAcquire(string key, out OpenArtifact file)
    {
        if (_open.TryGet(key, out file) && file.TryAcquire())
        {
            return true;
        }

        file = null!;
        return false;
    }

    /// <summary>Opens the stored artifact's file (null when it has no local file, or the cache is disposed) and
    /// remembers it under key.</summary>
    public OpenArtifact? Open(string key, StoredObject artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        if (_disposed || artifact.LocalPath is not { } path)
        {
            return null;
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.None);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        var file = new OpenArtifact(handle, path, artifact.Length, artifact.LastModified, artifact.ETag);
        var held = _open.GetOrAdd(key, file);
        if (!ReferenceEquals(held, file))
        {
            // Another request opened it first: ours was never shared, so it closes now.
            file.Release();
        }

        if (_disposed)
        {
            // Disposed meanwhile: make sure nothing added after the clear stays open.
            _open.Clear();
        }

        return held;
    }

    /// <summary>Lets go of the cache's reference to the file under key (it was deleted from the store): closed now when
    /// idle, else when the response reading it ends.</summary>
    public bool Remove(string key) => _open.Remove(key);

    /// <summary>Lets go of the cache's reference to every file: idle handles close now, those being sent when their
    /// responses end.</summary>
    public void Dispose()
    {
        _disposed = true;
        _open.Clear();
    }
}

using Microsoft.Win32.SafeHandles;
using Warren.Core.Limits;
using Warren.Server.Storage;

namespace Warren.Server.Endpoints;

/// <summary>An immutable stored file kept open, with what its response headers need. It is reference-counted: the
/// cache holds one reference, each response reading it another (<see cref="TryAcquire"/>); the handle is closed when
/// the last one is let go.</summary>
public sealed record OpenArtifact(SafeFileHandle Handle, string Path, long Length, DateTimeOffset LastModified, string ETag)
{
    private int _references = 1;

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
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Handle.Dispose();
        }
    }
}

/// <summary>Open handles of hot immutable files (like nginx's open_file_cache): a warm request costs a lookup and the
/// reads, not an open, stat and close. Files are never rewritten, so an open handle never goes stale. At most capacity
/// handles are held; an evicted handle is closed at once, or, when a response is still reading it (see
/// <see cref="OpenArtifact.TryAcquire"/>), when that response ends.</summary>
public sealed class OpenFileCache(int capacity = 512)
{
    private readonly BoundedCache<OpenArtifact> _open = new(capacity, onEvicted: static f => f.Release());

    public int Count => _open.Count;

    public bool TryGet(string key, out OpenArtifact file) => _open.TryGet(key, out file);

    /// <summary>Opens the stored artifact's file (null when it has no local file) and remembers it under key.</summary>
    public OpenArtifact? Open(string key, StoredArtifact artifact)
    {
        if (artifact.PhysicalPath is not { } path)
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
            handle.Dispose();
        }

        return held;
    }
}

using Microsoft.Win32.SafeHandles;
using Warren.Core.Limits;
using Warren.Server.Storage;

namespace Warren.Server.Endpoints;

/// <summary>An immutable stored file kept open, with what its response headers need.</summary>
public sealed record OpenArtifact(SafeFileHandle Handle, string Path, long Length, DateTimeOffset LastModified, string ETag);

/// <summary>Open handles of hot immutable files (like nginx's open_file_cache): a warm request costs a lookup and the
/// reads, not an open, stat and close. Files are never rewritten, so an open handle never goes stale. At most capacity
/// handles are held; an evicted handle is disposed at once. A response still reading it holds a reference
/// (SafeHandle.DangerousAddRef, see <see cref="OpenFileResult"/>), so the descriptor is closed when that response ends.</summary>
public sealed class OpenFileCache(int capacity = 512)
{
    private readonly BoundedCache<OpenArtifact> _open = new(capacity, onEvicted: static f => f.Handle.Dispose());

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

using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using Warren.Server.Storage;

namespace Warren.Server.Endpoints;

/// <summary>An immutable stored file kept open, with what its response headers need.</summary>
public sealed record OpenArtifact(SafeFileHandle Handle, string Path, long Length, DateTimeOffset LastModified, string ETag);

/// <summary>Open handles of hot immutable files (like nginx's open_file_cache): a warm request costs a lookup and the
/// reads, not an open, stat and close. Files are never rewritten, so an open handle never goes stale. Evicted handles
/// are not closed here (a response may still be reading them); their finalizer closes them once unreferenced.</summary>
public sealed class OpenFileCache(int capacity = 512)
{
    private readonly ConcurrentDictionary<string, OpenArtifact> _open = new(StringComparer.Ordinal);

    public bool TryGet(string key, out OpenArtifact file) => _open.TryGetValue(key, out file!);

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
        if (_open.Count >= capacity)
        {
            foreach (var k in _open.Keys.Take(capacity / 4))
            {
                _open.TryRemove(k, out _);
            }
        }

        return _open.GetOrAdd(key, file);
    }
}

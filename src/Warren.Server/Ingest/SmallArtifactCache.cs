using Warren.Core.Limits;

namespace Warren.Server.Ingest;

/// <summary>An immutable artifact small enough to keep in memory (.info and .mod files), with its validators.</summary>
public sealed record CachedArtifact(byte[] Body, string ETag, DateTimeOffset LastModified);

/// <summary>Keeps small immutable artifacts in memory so the hottest requests touch no file. Bounded by total bytes
/// and by entry count; entries never go stale (the artifacts are immutable), the least recently used are dropped to
/// stay within the bounds.</summary>
public sealed class SmallArtifactCache(long budgetBytes = 64L << 20, int maxEntryBytes = 64 << 10, int maxEntries = 100_000)
{
    // What one entry costs besides its body: the key, the validators, the bookkeeping.
    private const int Overhead = 256;

    private readonly BoundedCache<CachedArtifact> _entries = new(maxEntries, budgetBytes, static a => a.Body.Length + Overhead);

    public int MaxEntryBytes => maxEntryBytes;

    public int Count => _entries.Count;

    public long Bytes => _entries.Bytes;

    public bool TryGet(string key, out CachedArtifact artifact) => _entries.TryGet(key, out artifact);

    public bool Remove(string key) => _entries.Remove(key);

    public void Add(string key, CachedArtifact artifact)
    {
        if (artifact.Body.Length <= maxEntryBytes)
        {
            _entries.GetOrAdd(key, artifact);
        }
    }
}

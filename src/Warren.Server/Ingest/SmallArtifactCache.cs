using System.Collections.Concurrent;

namespace Warren.Server.Ingest;

/// <summary>An immutable artifact small enough to keep in memory (.info and .mod files), with its validators.</summary>
public sealed record CachedArtifact(byte[] Body, string ETag, DateTimeOffset LastModified);

/// <summary>Keeps small immutable artifacts in memory so the hottest requests touch no file. Bounded by total bytes;
/// entries never go stale (the artifacts are immutable), they are only dropped to stay within the budget.</summary>
public sealed class SmallArtifactCache(long budgetBytes = 64L << 20, int maxEntryBytes = 64 << 10)
{
    private readonly ConcurrentDictionary<string, CachedArtifact> _entries = new(StringComparer.Ordinal);
    private long _bytes;

    public int MaxEntryBytes => maxEntryBytes;

    public bool TryGet(string key, out CachedArtifact artifact) => _entries.TryGetValue(key, out artifact!);

    public void Add(string key, CachedArtifact artifact)
    {
        if (artifact.Body.Length > maxEntryBytes || !_entries.TryAdd(key, artifact))
        {
            return;
        }

        if (Interlocked.Add(ref _bytes, artifact.Body.Length) > budgetBytes)
        {
            // Drop entries (in no particular order) until a quarter of the budget is free again.
            foreach (var (k, _) in _entries)
            {
                if (Interlocked.Read(ref _bytes) <= budgetBytes * 3 / 4)
                {
                    break;
                }

                if (_entries.TryRemove(k, out var removed))
                {
                    Interlocked.Add(ref _bytes, -removed.Body.Length);
                }
            }
        }
    }
}

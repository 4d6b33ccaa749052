using Warren.Core.Modules;

namespace Warren.Storage.Retention;

/// <summary>Which versions go first when the store must shrink.</summary>
public enum RetentionPolicy
{
    /// <summary>Least recently used first (a version never asked for counts from when it was stored).</summary>
    Lru,

    /// <summary>Least frequently downloaded first; ties by least recently used.</summary>
    Lfu,

    /// <summary>Oldest stored first.</summary>
    Age,
}

/// <summary>One module version held by the store: the keys of its files, their bytes, when it was stored and how it
/// was used (from the index).</summary>
public sealed record StoredVersion(string ModulePath, string Version, IReadOnlyList<string> Keys, long Size, DateTimeOffset StoredAt,
    DateTimeOffset? LastAccess, long Downloads)
{
    /// <summary>When it was last wanted: its last access, else when it was stored.</summary>
    public DateTimeOffset LastUsed => LastAccess is { } access && access > StoredAt ? access : StoredAt;

    public override string ToString() => ModulePath + "@" + Version;
}

/// <summary>What a collection should do. At least one of MaxSize and OlderThan is given.</summary>
/// <param name="MaxSize">Evict, in policy order, until the module files take at most this many bytes.</param>
/// <param name="OlderThan">Evict every version not used (accessed, else stored) for this long.</param>
/// <param name="Keep">Versions of these module paths are never evicted.</param>
/// <param name="DryRun">Plan only: delete nothing.</param>
public sealed record CollectionRequest(long? MaxSize, TimeSpan? OlderThan, RetentionPolicy Policy, GlobList Keep, bool DryRun);

/// <summary>What a collection did (or, for a dry run, would do).</summary>
public sealed record CollectionResult(int Versions, long SizeBefore, long SizeAfter, int KeptByPattern, IReadOnlyList<StoredVersion> Evicted, bool DryRun);

/// <summary>Retention for a bounded disk: evicts whole module versions from an artifact store by age, least recent use
/// or least frequent use. Only module files (MODULE/@v/VERSION.info, .mod, .zip, .ziphash) are ever deleted: checksum
/// database tiles, the hosted checksum database's records and the index's records (hashes, feed) stay, so that a
/// version fetched again is verified against the same checksums and the feed keeps listing it.
/// A version's files are deleted zip first, then .ziphash, .mod and .info: whatever an interruption leaves is a state
/// the server already handles (each missing file is fetched again and checked on the next request).</summary>
public sealed class StoreCollector(IArtifactStore store, IModuleIndex? index, TimeProvider time)
{
    private static readonly ArtifactKind[] DeletionOrder = [ArtifactKind.Zip, ArtifactKind.ZipHash, ArtifactKind.Mod, ArtifactKind.Info];

    /// <summary>Called after each version is evicted (the server forgets what it holds of it in memory).</summary>
    public Action<StoredVersion>? OnEvicted { get; set; }

    /// <summary>Versions evicted together: their zips go first (the bulk of the bytes, so room is made fastest), then
    /// their other files, then one index write records them all.</summary>
    public const int EvictionBatch = 64;

    /// <summary>Scans the store, plans by the request and evicts (unless a dry run).</summary>
    public async Task<CollectionResult> CollectAsync(CollectionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var versions = await ScanAsync(cancellationToken).ConfigureAwait(false);
        var plan = Plan(versions, request, time.GetUtcNow());
        var before = versions.Sum(v => v.Size);
        var kept = versions.Count(v => request.Keep.Matches(v.ModulePath));
        if (!request.DryRun)
        {
            foreach (var batch in plan.Chunk(EvictionBatch))
            {
                await EvictAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }

        return new CollectionResult(versions.Count, before, before - plan.Sum(v => v.Size), kept, plan, request.DryRun);
    }

    /// <summary>The store's module versions with their sizes and usage.</summary>
    public async Task<IReadOnlyList<StoredVersion>> ScanAsync(CancellationToken cancellationToken)
    {
        var files = new Dictionary<(string Module, string Version), List<(string Key, ArtifactKind Kind)>>();
        await foreach (var key in store.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            if (StoreLayout.TryParseArtifactKey(key, out var module, out var version, out var kind))
            {
                if (!files.TryGetValue((module, version), out var list))
                {
                    files[(module, version)] = list = [];
                }

                list.Add((key, kind));
            }
        }

        var usage = new Dictionary<(string, string), VersionUsage>();
        if (index is not null)
        {
            foreach (var use in await index.ReadUsageAsync(cancellationToken).ConfigureAwait(false))
            {
                usage[(use.ModulePath, use.Version)] = use;
            }
        }

        var versions = new List<StoredVersion>(files.Count);
        foreach (var ((module, version), list) in files)
        {
            long size = 0;
            var stored = DateTimeOffset.MaxValue;
            var keys = new List<string>(list.Count);
            foreach (var kind in DeletionOrder)
            {
                foreach (var (key, _) in list.Where(f => f.Kind == kind))
                {
                    if (await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } stat)
                    {
                        continue;
                    }

                    size += stat.Length;
                    stored = stat.LastModified < stored ? stat.LastModified : stored;
                    keys.Add(key);
                }
            }

            if (keys.Count > 0)
            {
                var use = usage.GetValueOrDefault((module, version));
                var access = use is null || use.LastAccess <= DateTimeOffset.UnixEpoch ? (DateTimeOffset?)null : use.LastAccess;
                versions.Add(new StoredVersion(module, version, keys, size, stored, access, use?.Downloads ?? 0));
            }
        }

        return versions;
    }

    /// <summary>The versions to evict, in the order they go: first every version unused for OlderThan, then, in policy
    /// order, as many as it takes to bring the total to MaxSize. Versions matching Keep are never among them.</summary>
    public static IReadOnlyList<StoredVersion> Plan(IReadOnlyList<StoredVersion> versions, CollectionRequest request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(versions);
        ArgumentNullException.ThrowIfNull(request);
        var candidates = Order(versions.Where(v => !request.Keep.Matches(v.ModulePath)), request.Policy).ToList();
        var evict = new List<StoredVersion>();
        var chosen = new HashSet<StoredVersion>(ReferenceEqualityComparer.Instance);
        if (request.OlderThan is { } age)
        {
            foreach (var v in candidates.Where(v => now - v.LastUsed > age))
            {
                evict.Add(v);
                chosen.Add(v);
            }
        }

        if (request.MaxSize is { } max)
        {
            var total = versions.Sum(v => v.Size) - evict.Sum(v => v.Size);
            foreach (var v in candidates)
            {
                if (total <= max)
                {
                    break;
                }

                if (chosen.Add(v))
                {
                    evict.Add(v);
                    total -= v.Size;
                }
            }
        }

        return evict;
    }

    /// <summary>Candidates in the order the policy evicts them; ties broken by path and version so plans are stable.</summary>
    public static IEnumerable<StoredVersion> Order(IEnumerable<StoredVersion> versions, RetentionPolicy policy)
    {
        var ordered = policy switch
        {
            RetentionPolicy.Lfu => versions.OrderBy(v => v.Downloads).ThenBy(v => v.LastUsed),
            RetentionPolicy.Age => versions.OrderBy(v => v.StoredAt),
            _ => versions.OrderBy(v => v.LastUsed),
        };
        return ordered.ThenBy(v => v.ModulePath, StringComparer.Ordinal).ThenBy(v => v.Version, StringComparer.Ordinal);
    }

    /// <summary>Deletes versions' files: every zip (and .ziphash) first, then the .mod and .info files; then records the
    /// evictions in the index. Each version's files go in <see cref="DeletionOrder"/>.</summary>
    public async Task EvictAsync(IReadOnlyCollection<StoredVersion> versions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(versions);
        foreach (var bulk in new[] { true, false })
        {
            foreach (var key in versions.SelectMany(v => v.Keys.Where(k => IsBulk(k) == bulk)))
            {
                await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
        }

        if (index is not null)
        {
            await index.RecordEvictionsAsync(versions.Select(v => (v.ModulePath, v.Version)).ToList(), time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        foreach (var version in versions)
        {
            OnEvicted?.Invoke(version);
        }
    }

    private static bool IsBulk(string key) =>
        StoreLayout.TryParseArtifactKey(key, out _, out _, out var kind) && kind is ArtifactKind.Zip or ArtifactKind.ZipHash;

    /// <summary>Parses lru, lfu or age (case-insensitive).</summary>
    public static bool TryParsePolicy(string? text, out RetentionPolicy policy) =>
        Enum.TryParse(text, ignoreCase: true, out policy) && Enum.IsDefined(policy) && !int.TryParse(text, out _);
}

using System.Text;
using Warren.Server.Endpoints;
using Warren.Server.Storage;
using Warren.Server.Upstream;

namespace Warren.Server.Ingest;

/// <summary>What the endpoints call: answers module requests from memory (small artifacts, open zips), the store and
/// the answer cache, and hands what is missing to the ingestor.</summary>
public sealed class ModuleService(IArtifactStore store, ModuleIngestor ingestor, AnswerCache answers, SmallArtifactCache small, OpenFileCache openFiles,
    LocalObjectCache localCopies, WarrenMetrics metrics, UsageTracker usage, LiveStages live)
{
    private const string JsonType = "application/json";

    // Stored zips of a store without local files (object storage), known complete with their .ziphash: served without
    // asking the store again whether they exist. Immutable, so only the entry count bounds it.
    private readonly Warren.Core.Limits.BoundedCache<StoredObject> _remoteZips = new(4096);
    private const string TextType = "text/plain; charset=utf-8";

    /// <summary>.info, .mod or .zip of a canonical version when this node holds it (memory or store), else null:
    /// nothing is fetched.</summary>
    public async Task<ServeResult?> GetHeldArtifactAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken)
    {
        usage.Touch(modulePath, version, kind);
        var label = ModuleIngestor.Label(kind);
        var key = ModuleIngestor.Key(modulePath, version, kind);
        if (kind != ArtifactKind.Zip && small.TryGet(key, out var cached))
        {
            metrics.CacheHit(label);
            return new MemoryArtifactAnswer(cached);
        }

        if (kind == ArtifactKind.Zip && openFiles.TryGet(key, out var open))
        {
            metrics.CacheHit(label);
            return new OpenArtifactAnswer(open);
        }

        if (kind == ArtifactKind.Zip && _remoteZips.TryGet(key, out var remote))
        {
            metrics.CacheHit(label);
            return ServeRemoteZip(key, remote);
        }

        var hit = await GetStoredAsync(modulePath, version, kind, cancellationToken).ConfigureAwait(false);
        if (hit is null)
        {
            return null;
        }

        try
        {
            if (kind == ArtifactKind.Zip && await ingestor.RepairZipHashAsync(modulePath, version, hit, cancellationToken).ConfigureAwait(false) is { } broken)
            {
                return broken;
            }
        }
        catch (Exception ex) when (hit.LocalPath is not null && ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // Evicted while its hash was being repaired: not held any more.
            return null;
        }

        var served = await RememberSmallAsync(key, kind, hit, cancellationToken).ConfigureAwait(false);
        if (served is not null)
        {
            metrics.CacheHit(label);
        }

        return served;
    }

    /// <summary>@v/list from what this node holds only (release versions; no upstream is asked); null when it holds none.</summary>
    public async Task<ServeResult?> GetHeldListAsync(string modulePath, CancellationToken cancellationToken)
    {
        var held = await ListHeldAsync(modulePath, cancellationToken).ConfigureAwait(false);
        return held.Count > 0 ? new ContentAnswer(MergeList([], held), TextType, TimeSpan.Zero) : null;
    }

    /// <summary>@latest from what this node holds only (no upstream is asked); null when it holds none.</summary>
    public async Task<ServeResult?> GetHeldLatestAsync(string modulePath, CancellationToken cancellationToken) =>
        await LatestHeldInfoAsync(modulePath, cancellationToken).ConfigureAwait(false) is { } info ? new ContentAnswer(info, JsonType, TimeSpan.Zero) : null;

    /// <summary>.info, .mod or .zip of a canonical version. With mayStream (a plain GET of a zip), a zip this node must
    /// fetch from an upstream proxy may be answered with a <see cref="LiveZipAnswer"/>: its bytes as they arrive, the
    /// last one only once it is verified (<see cref="WarrenOptions.StreamFetchedZips"/>).</summary>
    public async Task<ServeResult> GetArtifactAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken, bool mayStream = false)
    {
        if (await GetHeldArtifactAsync(modulePath, version, kind, cancellationToken).ConfigureAwait(false) is { } held)
        {
            return held;
        }

        var label = ModuleIngestor.Label(kind);
        var key = ModuleIngestor.Key(modulePath, version, kind);

        // Under a store quota a version may be evicted again between its commit and this read: fetch it again then.
        for (var attempt = 1; ; attempt++)
        {
            // Watched before the fetch starts, so that its first bytes cannot be missed.
            using var watch = attempt == 1 && mayStream && kind == ArtifactKind.Zip && live.MayStream(key) ? live.Watch(key) : null;
            var ingest = ingestor.IngestAsync(modulePath, version, kind, cancellationToken);
            if (watch is not null && await StreamAsync(watch, ingest, cancellationToken).ConfigureAwait(false) is { } streamed)
            {
                return streamed;
            }

            if (await ingest.ConfigureAwait(false) is { } failure)
            {
                return failure;
            }

            var hit = await GetStoredAsync(modulePath, version, kind, cancellationToken).ConfigureAwait(false);
            if (hit is not null && await RememberSmallAsync(key, kind, hit, cancellationToken).ConfigureAwait(false) is { } served)
            {
                return served;
            }

            if (attempt == ModuleIngestor.MaxIngestAttempts)
            {
                return Outcome.Refused(ReasonKind.StoreInconsistent, $"{modulePath}@{version}: stored {label} disappeared {ModuleIngestor.MaxIngestAttempts} times");
            }
        }
    }

    /// <summary>A zip's stage when its download starts (and is large enough to stream) before the ingest ends; null when
    /// the ingest ends first, the stage already failed, or its file is gone: then the stored zip is served.</summary>
    private static async Task<LiveZipAnswer?> StreamAsync(LiveWatch watch, Task<Outcome?> ingest, CancellationToken cancellationToken)
    {
        await Task.WhenAny(ingest, watch.Found).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (ingest.IsCompleted || !watch.Found.IsCompletedSuccessfully)
        {
            return null;
        }

        var stage = await watch.Found.ConfigureAwait(false);
        if (stage.HasEnded && !stage.EndedComplete || stage.OpenReader() is not { } reader)
        {
            return null;
        }

        return new LiveZipAnswer(new LiveZip(stage, reader, ingest));
    }

    /// <summary>Forgets what memory holds of a version's files (they were evicted from the store): the next request
    /// reads the store, and fetches again what is gone.</summary>
    public void Forget(string modulePath, string version)
    {
        foreach (var kind in new[] { ArtifactKind.Info, ArtifactKind.Mod, ArtifactKind.Zip })
        {
            var key = ModuleIngestor.Key(modulePath, version, kind);
            small.Remove(key);
            openFiles.Remove(key);
            _remoteZips.Remove(key);
        }

        answers.Forget(modulePath);
    }

    /// <summary>The answer for a stored artifact, kept in memory where it is small; null when it was deleted (evicted
    /// under a store quota) since it was found, so that the caller fetches it again.</summary>
    private async Task<ServeResult?> RememberSmallAsync(string key, ArtifactKind kind, StoredObject artifact, CancellationToken cancellationToken)
    {
        if (kind == ArtifactKind.Zip)
        {
            if (artifact.LocalPath is null)
            {
                _remoteZips.Set(key, artifact);
                return ServeRemoteZip(key, artifact);
            }

            // An open handle keeps serving the file even if it is evicted now; without one, the file must still be there.
            return openFiles.Open(key, artifact) is { } open ? new OpenArtifactAnswer(open) : Vanished(artifact) ? null : new ArtifactAnswer(artifact);
        }

        if (artifact.Length > small.MaxEntryBytes)
        {
            return Vanished(artifact) ? null : new ArtifactAnswer(artifact);
        }

        if (await artifact.ReadAllBytesIfStillHeldAsync(cancellationToken).ConfigureAwait(false) is not { } body)
        {
            return null;
        }

        var cached = new CachedArtifact(body, artifact.ETag, artifact.LastModified);
        small.Add(key, cached);
        return new MemoryArtifactAnswer(cached);
    }

    private static bool Vanished(StoredObject artifact) => artifact.LocalPath is { } path && !File.Exists(path);

    /// <summary>A zip of a store without local files: from this node's local copy when it has one (sent like a stored
    /// file), else from the store while a local copy is made in the background.</summary>
    private ServeResult ServeRemoteZip(string key, StoredObject remote)
    {
        if (localCopies.TryGet(remote) is { } local)
        {
            return openFiles.Open(key, local) is { } open ? new OpenArtifactAnswer(open) : new ArtifactAnswer(local);
        }

        localCopies.Fill(remote);
        return new ArtifactAnswer(remote);
    }

    /// <summary>.info for a query that is not a canonical version (a branch, a tag, a commit prefix): asked upstream, answered canonically.</summary>
    public Task<ServeResult> QueryInfoAsync(string modulePath, string query, CancellationToken cancellationToken)
    {
        var key = $"query:{modulePath}@{query}";
        var request = new ModuleRequest(modulePath, query, RequestKind.Info);
        return answers.GetAsync(new AnswerQuery(key, request, JsonType, Identity, static _ => Task.FromResult<byte[]?>(null)),
            () => ingestor.FetchAnswerAsync(key, request, body => ModuleIngestor.ValidateInfo(modulePath, null, body),
                (info, source) => ingestor.StoreQueriedInfoAsync(modulePath, info, source), cancellationToken), cancellationToken);
    }

    /// <summary>@v/list: upstream's list (cached with a TTL) merged with the versions the store holds.</summary>
    public Task<ServeResult> GetListAsync(string modulePath, CancellationToken cancellationToken)
    {
        var key = $"list:{modulePath}";
        var request = new ModuleRequest(modulePath, null, RequestKind.List);
        var query = new AnswerQuery(key, request, TextType,
            async (body, ct) => MergeList(body, await ListHeldAsync(modulePath, ct).ConfigureAwait(false)),
            async ct =>
            {
                var held = await ListHeldAsync(modulePath, ct).ConfigureAwait(false);
                return held.Count > 0 ? MergeList([], held) : null;
            });
        return answers.GetAsync(query, () => ingestor.FetchAnswerAsync(key, request, static _ => null, null, cancellationToken), cancellationToken);
    }

    /// <summary>@latest: upstream's answer (cached with a TTL); when upstream has nothing to say, the highest version held.</summary>
    public Task<ServeResult> GetLatestAsync(string modulePath, CancellationToken cancellationToken)
    {
        var key = $"latest:{modulePath}";
        var request = new ModuleRequest(modulePath, null, RequestKind.Latest);
        return answers.GetAsync(new AnswerQuery(key, request, JsonType, Identity, ct => LatestHeldInfoAsync(modulePath, ct)),
            () => ingestor.FetchAnswerAsync(key, request, body => ModuleIngestor.ValidateInfo(modulePath, null, body), null, cancellationToken),
            cancellationToken);
    }

    private static ValueTask<byte[]> Identity(byte[] body, CancellationToken cancellationToken) => ValueTask.FromResult(body);

    private async Task<byte[]?> LatestHeldInfoAsync(string modulePath, CancellationToken cancellationToken)
    {
        var held = await ListHeldAsync(modulePath, cancellationToken).ConfigureAwait(false);
        var releases = held.Where(v => !PseudoVersion.IsPseudoVersion(v)).ToList();
        var candidates = releases.Count > 0 ? releases : held.ToList();
        for (var i = candidates.Count - 1; i >= 0; i--)
        {
            // An .info evicted after it was found is no longer held: the next version down is the highest held.
            if (await GetStoredAsync(modulePath, candidates[i], ArtifactKind.Info, cancellationToken).ConfigureAwait(false) is { } info &&
                await info.ReadAllBytesIfStillHeldAsync(cancellationToken).ConfigureAwait(false) is { } body)
            {
                return body;
            }
        }

        return null;
    }

    /// <summary>The zip and go.mod h1 of a version, fetching and checking its zip and .mod first if the store lacks
    /// them; or the refusal to pass on.</summary>
    public async Task<StoredHashes> GetHashesAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        foreach (var kind in new[] { ArtifactKind.Zip, ArtifactKind.Mod })
        {
            if (await GetArtifactAsync(modulePath, version, kind, cancellationToken).ConfigureAwait(false) is Outcome error)
            {
                return new StoredHashes(null, null, error);
            }
        }

        if (await GetStoredAsync(modulePath, version, ArtifactKind.Zip, cancellationToken).ConfigureAwait(false) is { } storedZip &&
            await ingestor.RepairZipHashAsync(modulePath, version, storedZip, cancellationToken).ConfigureAwait(false) is { } broken)
        {
            return new StoredHashes(null, null, broken);
        }

        var zipHash = await GetStoredAsync(modulePath, version, ArtifactKind.ZipHash, cancellationToken).ConfigureAwait(false);
        var mod = await GetStoredAsync(modulePath, version, ArtifactKind.Mod, cancellationToken).ConfigureAwait(false);
        if (zipHash is null || mod is null)
        {
            return new StoredHashes(null, null, Outcome.Refused(ReasonKind.StoreInconsistent, $"{modulePath}@{version}: stored hashes disappeared"));
        }

        var zip = Encoding.UTF8.GetString(await zipHash.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false)).Trim();
        var modBytes = await mod.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false);
        return new StoredHashes(zip, DirHash.HashGoMod(modBytes), null);
    }

    // Every use of the store is below.

    private ValueTask<StoredObject?> GetStoredAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken) =>
        store.GetAsync(StoreLayout.ArtifactKey(modulePath, version, kind), cancellationToken);

    private async Task<IReadOnlyList<string>> ListHeldAsync(string modulePath, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var key in store.ListAsync(StoreLayout.VersionsPrefix(modulePath), cancellationToken).ConfigureAwait(false))
        {
            keys.Add(key);
        }

        return StoreLayout.VersionsOf(keys);
    }

    /// <summary>Upstream's list and the held release versions, deduplicated and in semver order.</summary>
    internal static byte[] MergeList(byte[] upstream, IReadOnlyList<string> held)
    {
        var versions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(upstream).Split('\n'))
        {
            var fields = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && SemVer.IsValid(fields[0]))
            {
                versions.Add(fields[0]);
            }
        }

        foreach (var v in held)
        {
            if (!PseudoVersion.IsPseudoVersion(v))
            {
                versions.Add(v);
            }
        }

        var list = versions.ToList();
        list.Sort(SemVer.Compare);
        return Encoding.UTF8.GetBytes(string.Concat(list.Select(v => v + "\n")));
    }
}

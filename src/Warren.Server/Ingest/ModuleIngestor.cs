using System.Text;
using System.Text.Json;
using Warren.Server.Storage;
using Warren.Server.SumDb;
using Warren.Server.Upstream;

namespace Warren.Server.Ingest;

/// <summary>Brings what the store lacks: one shared fetch per key (see <see cref="UpstreamFetcher"/>), then the
/// checks the go command makes, checksum verification, the atomic commit and the index record.</summary>
public sealed class ModuleIngestor(UpstreamFetcher upstream, IArtifactStore store, IModuleIndex index, StagingArea staging, ChecksumVerifier verifier,
    AnswerCache answers, LocalObjectCache localCopies, WarrenMetrics metrics, TimeProvider time, UsageTracker usage, BackgroundFetchQueue background,
    ILogger<ModuleIngestor> logger)
{
    private readonly CancellationToken _lifetime = upstream.Lifetime;

    /// <summary>How often an artifact evicted (under a store quota) between its commit and the read that follows is
    /// fetched again before the request fails.</summary>
    public const int MaxIngestAttempts = 3;

    /// <summary>The metrics label of an artifact kind: "info", "mod" or "zip".</summary>
    public static string Label(ArtifactKind kind) => kind switch
    {
        ArtifactKind.Info => "info",
        ArtifactKind.Mod => "mod",
        _ => "zip",
    };

    /// <summary>The key of an artifact in the memory caches, the negative cache and the flights.</summary>
    public static string Key(string modulePath, string version, ArtifactKind kind) => Label(kind) + ":" + modulePath + "@" + version;

    /// <summary>Fetches, checks and commits the .info, .mod or .zip of a canonical version the store lacks. Null when
    /// it is stored; else why not. Concurrent callers share one fetch; a caller that gives up does not stop it.</summary>
    public async Task<Outcome?> IngestAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken)
    {
        var request = new ModuleRequest(modulePath, version, kind switch
        {
            ArtifactKind.Info => RequestKind.Info,
            ArtifactKind.Mod => RequestKind.Mod,
            _ => RequestKind.Zip,
        });
        var flight = await upstream.FetchAsync(Key(modulePath, version, kind), Label(kind), request, NewStagingFile,
            async (staged, source) => await CheckAndCommitAsync(request, kind, staged, source).ConfigureAwait(false) ?? FlightResult.Stored,
            async ct => await store.ExistsAsync(StoreLayout.ArtifactKey(modulePath, version, kind), ct).ConfigureAwait(false) ? FlightResult.Stored : null,
            cancellationToken).ConfigureAwait(false);
        return flight.Failure;
    }

    /// <summary>Fetches a list, @latest or query answer (one shared fetch per key), checks it, persists it in the answer
    /// cache and hands it to onFresh with the name of the source that answered; or says why there is none.</summary>
    internal Task<FlightResult> FetchAnswerAsync(string key, ModuleRequest request, Func<byte[], string?> validate, Func<byte[], string, Task>? onFresh,
        CancellationToken cancellationToken) =>
        FetchAnswerFlightAsync(key, request, time.GetUtcNow(), async (staged, source) =>
        {
            var body = await File.ReadAllBytesAsync(staged, _lifetime).ConfigureAwait(false);
            if (validate(body) is { } problem)
            {
                return Reject(request, source, "invalid_info", problem);
            }

            await answers.PersistAsync(key, body, _lifetime).ConfigureAwait(false);
            if (onFresh is not null)
            {
                await onFresh(body, source).ConfigureAwait(false);
            }

            return new FlightResult(null, body);
        }, cancellationToken);

    /// <summary>An answer's flight: in a cluster, an answer another node stored in the index since started is used.</summary>
    private Task<FlightResult> FetchAnswerFlightAsync(string key, ModuleRequest request, DateTimeOffset started, Func<string, string, Task<FlightResult>> use,
        CancellationToken cancellationToken) =>
        upstream.FetchAsync(key, AnswerQuery.LabelOf(request), request, NewStagingFile, use, async ct =>
            await answers.GetPersistedAsync(key, ct).ConfigureAwait(false) is { } answer && answer.FetchedAt >= started ? new FlightResult(null, answer.Body) : null,
            cancellationToken);

    /// <summary>Stores the .info a version query resolved to, when it names a valid version the store lacks (and, as for
    /// an .info asked for by version, queues the .mod and .zip when <see cref="WarrenOptions.Prefetch"/> says so).</summary>
    public async Task StoreQueriedInfoAsync(string modulePath, byte[] info, string source)
    {
        var version = ReadInfoVersion(info);
        if (version is null || ModuleVersion.Check(modulePath, version) is not null ||
            await GetStoredAsync(modulePath, version, ArtifactKind.Info, _lifetime).ConfigureAwait(false) is not null)
        {
            return;
        }

        var staged = NewStagingFile();
        await File.WriteAllBytesAsync(staged, info, _lifetime).ConfigureAwait(false);
        await CommitStagedAsync(staged, modulePath, version, ArtifactKind.Info, _lifetime).ConfigureAwait(false);
        answers.Forget(modulePath);
        PrefetchAfterInfo(modulePath, version, source);
    }

    /// <summary>The go command asks for the .mod and then the .zip of a version whose .info it got: they are fetched
    /// meanwhile (by default only in direct mode, from the local mirror), through the same flights, so the client's
    /// requests join them or find them stored.</summary>
    private void PrefetchAfterInfo(string modulePath, string version, string source)
    {
        if (background.Prefetches(source))
        {
            background.Enqueue(modulePath, version);
        }
    }

    private Outcome Reject(ModuleRequest request, string source, string metric, string problem)
    {
        metrics.IngestRejected(metric);
        Log.Rejected(logger, request.ToString(), source, problem);
        return Outcome.Refused(ReasonKind.InvalidArtifact, $"{request}: refused what {source} sent: {problem}");
    }

    private Task<Outcome?> CheckAndCommitAsync(ModuleRequest request, ArtifactKind kind, string staged, string source) => kind switch
    {
        ArtifactKind.Info => IngestInfoAsync(request, staged, source),
        ArtifactKind.Mod => IngestModAsync(request, staged, source),
        _ => IngestZipAsync(request, staged, source),
    };

    private async Task<Outcome?> IngestInfoAsync(ModuleRequest request, string staged, string source)
    {
        var body = await File.ReadAllBytesAsync(staged, _lifetime).ConfigureAwait(false);
        if (ValidateInfo(request.ModulePath, request.Version, body) is { } problem)
        {
            return Reject(request, source, "invalid_info", problem);
        }

        await CommitAsync(request, staged, ArtifactKind.Info, null, body.Length, source).ConfigureAwait(false);

        PrefetchAfterInfo(request.ModulePath, request.Version!, source);

        return null;
    }

    private async Task<Outcome?> IngestModAsync(ModuleRequest request, string staged, string source)
    {
        var body = await File.ReadAllBytesAsync(staged, _lifetime).ConfigureAwait(false);
        if (CheckGoMod(request.ModulePath, body) is { } problem)
        {
            return Reject(request, source, "invalid_mod", problem);
        }

        var hash = DirHash.HashGoMod(body);
        var verdict = await verifier.VerifyAsync(request.ModulePath, request.Version!, null, hash, source, _lifetime).ConfigureAwait(false);
        if (!verdict.IsOk)
        {
            return Outcome.FromVerdict(verdict);
        }

        await CommitAsync(request, staged, ArtifactKind.Mod, hash, body.Length, source).ConfigureAwait(false);
        return null;
    }

    private async Task<Outcome?> IngestZipAsync(ModuleRequest request, string staged, string source)
    {
        var (path, version) = (request.ModulePath, request.Version!);
        var check = ModuleZip.Check(staged, path, version, _lifetime);
        if (!check.IsValid)
        {
            return Reject(request, source, "invalid_zip", "invalid module zip: " + check.Error);
        }

        // The zip's go.mod must be the .mod the go command was (or will be) given.
        var (modBytes, modFailure) = await GetModAsync(path, version).ConfigureAwait(false);
        if (modFailure is not null)
        {
            return modFailure.IsNotFound
                ? Reject(request, source, "missing_mod", $"upstream has the zip but not the .mod ({modFailure.Message})")
                : modFailure.Because($"{request}: fetching the .mod to check the zip: {modFailure.Message}");
        }

        // The go command hashes the .mod and the zip separately (a .mod may add retractions to a zip without go.mod):
        // a difference is legal, and the checksum database vouches for each. Where none does, it is reported.
        var expected = check.GoMod ?? SynthesizedGoMod(path);
        var unvouchedDifference = !modBytes.AsSpan().SequenceEqual(expected) && !verifier.Vouches(path);

        var hash = check.ZipHash ?? DirHash.HashZip(staged, _lifetime);
        if (await DiffersFromRecordAsync(request, ArtifactKind.Zip, hash, source).ConfigureAwait(false) is { } changed)
        {
            return changed;
        }

        var modHash = DirHash.HashGoMod(modBytes);
        var verdict = await verifier.VerifyAsync(path, version, hash, modHash, source, _lifetime).ConfigureAwait(false);
        if (!verdict.IsOk)
        {
            return Outcome.FromVerdict(verdict);
        }

        var hashFile = NewStagingFile();
        await File.WriteAllTextAsync(hashFile, hash, _lifetime).ConfigureAwait(false);
        await CommitStagedAsync(hashFile, path, version, ArtifactKind.ZipHash, _lifetime).ConfigureAwait(false);
        await CommitAsync(request, staged, ArtifactKind.Zip, hash, new FileInfo(staged).Length, source).ConfigureAwait(false);
        await verifier.LogAsync(path, version, hash, modHash, _lifetime).ConfigureAwait(false);
        if (unvouchedDifference)
        {
            metrics.ModDiffersFromZip();
            Log.ModDiffersFromZip(logger, request.ToString(), source, check.GoMod is null ? "the zip has no go.mod and the .mod is not the synthesized one" : "the go.mod in the zip differs from the .mod");
        }

        return null;
    }

    /// <summary>A zip fetched again (after eviction, or repair) must have the hash the index recorded when it was first
    /// stored, whatever the checksum policy: eviction never changes what a client gets. (A .mod is not held to its
    /// record: upstream may legitimately serve one that differs from the zip's go.mod; the checksum database, or the
    /// hosted one, vouches for it.)</summary>
    private async Task<Outcome?> DiffersFromRecordAsync(ModuleRequest request, ArtifactKind kind, string hash, string source)
    {
        var recorded = await GetRecordedHashAsync(request.ModulePath, request.Version!, kind, _lifetime).ConfigureAwait(false);
        if (recorded is null || string.Equals(recorded, hash, StringComparison.Ordinal))
        {
            return null;
        }

        Log.HashDiffersFromRecord(logger, request.ModulePath, request.Version!, Label(kind), hash, recorded);
        return Reject(request, source, "changed_" + Label(kind), $"its hash {hash} differs from the {recorded} recorded when this version was first stored");
    }

    /// <summary>The .mod of a version whose zip is being checked: from the store, else ingested first. Under a store
    /// quota the .mod may be evicted between its commit (or its lookup) and its read: it is fetched again then.</summary>
    private async Task<(byte[] Mod, Outcome? Failure)> GetModAsync(string modulePath, string version)
    {
        for (var ingests = 0; ; ingests++)
        {
            // A .mod evicted after it was found is as if it had not been.
            if (await GetStoredAsync(modulePath, version, ArtifactKind.Mod, _lifetime).ConfigureAwait(false) is { } mod &&
                await mod.ReadAllBytesIfStillHeldAsync(_lifetime).ConfigureAwait(false) is { } bytes)
            {
                if (ingests == 0)
                {
                    metrics.CacheHit(Label(ArtifactKind.Mod));
                }

                return (bytes, null);
            }

            if (ingests == MaxIngestAttempts)
            {
                return ([], Outcome.Refused(ReasonKind.StoreInconsistent, $"{modulePath}@{version}: stored mod disappeared {ingests} times"));
            }

            if (await IngestAsync(modulePath, version, ArtifactKind.Mod, _lifetime).ConfigureAwait(false) is { } failure)
            {
                return ([], failure);
            }
        }
    }

    /// <summary>A stored zip whose .ziphash is missing (lost, or deleted by hand) gets it back: the h1 is computed from
    /// the zip, which passed every check when it was ingested, and compared with the hash the index recorded then. Null
    /// when the .ziphash is there (again); a refusal when the zip no longer has the hash it was stored with.</summary>
    public async Task<Outcome?> RepairZipHashAsync(string modulePath, string version, StoredObject zip, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(zip);
        if (await GetStoredAsync(modulePath, version, ArtifactKind.ZipHash, cancellationToken).ConfigureAwait(false) is not null)
        {
            return null;
        }

        var hash = await HashStoredZipAsync(zip, cancellationToken).ConfigureAwait(false);
        var recorded = await GetRecordedHashAsync(modulePath, version, ArtifactKind.Zip, cancellationToken).ConfigureAwait(false);
        if (recorded is not null && !string.Equals(recorded, hash, StringComparison.Ordinal))
        {
            return Outcome.Refused(ReasonKind.StoreInconsistent, $"{modulePath}@{version}: the stored zip's hash {hash} differs from the {recorded} recorded when it was stored");
        }

        var staged = NewStagingFile();
        await File.WriteAllTextAsync(staged, hash, cancellationToken).ConfigureAwait(false);
        if (await CommitStagedAsync(staged, modulePath, version, ArtifactKind.ZipHash, cancellationToken).ConfigureAwait(false))
        {
            Log.ZipHashRebuilt(logger, modulePath, version, hash);
        }

        return null;
    }

    /// <summary>The h1 of a stored zip: read in place when the store has a local file, else through a staged copy
    /// (the zip's central directory needs random access).</summary>
    private async Task<string> HashStoredZipAsync(StoredObject zip, CancellationToken cancellationToken)
    {
        if (zip.LocalPath is { } local)
        {
            return DirHash.HashZip(local, cancellationToken);
        }

        var copy = NewStagingFile();
        try
        {
            await zip.CopyToFileAsync(copy, cancellationToken).ConfigureAwait(false);
            return DirHash.HashZip(copy, cancellationToken);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>Commits a checked artifact, forgets the answers it changes and records it in the index.</summary>
    private async Task CommitAsync(ModuleRequest request, string staged, ArtifactKind kind, string? hash, long size, string source)
    {
        // A zip this node verified stays here as its local copy when the store keeps it elsewhere (object storage).
        var reserved = kind == ArtifactKind.Zip ? localCopies.Reserve(staged) : null;
        await usage.ReserveAsync(size, _lifetime).ConfigureAwait(false);
        var stored = false;
        try
        {
            stored = await CommitStagedAsync(staged, request.ModulePath, request.Version!, kind, _lifetime).ConfigureAwait(false);
        }
        finally
        {
            usage.Committed(size, stored);
        }

        if (reserved is not null)
        {
            localCopies.Adopt(reserved, await GetStoredAsync(request.ModulePath, request.Version!, kind, _lifetime).ConfigureAwait(false));
        }

        answers.Forget(request.ModulePath);
        await RecordAsync(request.ModulePath, request.Version!, kind, hash, size, source).ConfigureAwait(false);
        Log.Stored(logger, request.ToString(), size, hash ?? "-", source);
    }

    // Every use of the store and the index is below.

    private string NewStagingFile() => staging.NewFile();

    private ValueTask<bool> CommitStagedAsync(string staged, string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken) =>
        store.PutIfAbsentAsync(StoreLayout.ArtifactKey(modulePath, version, kind), staged, cancellationToken);

    private ValueTask<StoredObject?> GetStoredAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken) =>
        store.GetAsync(StoreLayout.ArtifactKey(modulePath, version, kind), cancellationToken);

    private Task RecordAsync(string modulePath, string version, ArtifactKind kind, string? hash, long size, string source) =>
        index.RecordArtifactAsync(new ArtifactRecord(modulePath, version, kind, hash, size, source, time.GetUtcNow()), _lifetime);

    private async Task<string?> GetRecordedHashAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken) =>
        (await index.GetArtifactAsync(modulePath, version, kind, cancellationToken).ConfigureAwait(false))?.Hash;

    /// <summary>What the go command refuses in a dependency's go.mod (see <see cref="GoModFile.CheckDependency"/>).</summary>
    internal static string? CheckGoMod(string modulePath, byte[] body) => GoModFile.CheckDependency(modulePath, body);

    /// <summary>The go.mod the go command uses for a module whose zip has none.</summary>
    public static byte[] SynthesizedGoMod(string modulePath) => GoModFile.Synthesize(modulePath);

    private static string? ReadInfoVersion(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("Version", out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An .info must be a JSON object naming a valid version of this module (the requested one, when given) and a valid Time.</summary>
    internal static string? ValidateInfo(string modulePath, string? expectedVersion, byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Version", out var v) || v.ValueKind != JsonValueKind.String)
            {
                return "the .info has no Version";
            }

            var version = v.GetString()!;
            if (expectedVersion is not null && version != expectedVersion)
            {
                return $"the .info is for version {version}, not {expectedVersion}";
            }

            if (ModuleVersion.Check(modulePath, version) is { } problem)
            {
                return $"the .info names an invalid version {version}: {problem}";
            }

            if (root.TryGetProperty("Time", out var t) && (t.ValueKind != JsonValueKind.String || !t.TryGetDateTimeOffset(out _)))
            {
                return "the .info has an invalid Time";
            }

            return null;
        }
        catch (JsonException ex)
        {
            return "the .info is not JSON: " + ex.Message.Split('\n')[0];
        }
    }
}

using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Warren.Core.Limits;
using Warren.Core.Modules;
using Warren.Server.Configuration;
using Warren.Server.Observability;
using Warren.Server.Storage;
using Warren.Server.Upstream;

namespace Warren.Server.Ingest;

/// <summary>The result of one shared upstream fetch: stored (or fetched, with the body), or the outcome that says why not.</summary>
internal sealed record FlightResult(Outcome? Failure, byte[]? Body = null)
{
    public static readonly FlightResult Stored = new((Outcome?)null);

    public bool IsOk => Failure is null;

    public static implicit operator FlightResult(Outcome failure) => new(failure);
}

/// <summary>Serves module requests from the store, fetching, checking and committing what is missing.</summary>
public sealed class ModuleService
{
    private const string JsonType = "application/json";
    private const string TextType = "text/plain; charset=utf-8";
    private const int MaxFreshAnswers = 50_000;

    private readonly IModuleStore _store;
    private readonly MetadataIndex _index;
    private readonly UpstreamChain _chain;
    private readonly NegativeCache _negative;
    private readonly WarrenMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly WarrenOptions _options;
    private readonly ILogger<ModuleService> _logger;
    private readonly CancellationToken _lifetime;
    private readonly SingleFlight<FlightResult> _flights = new();
    private readonly SmallArtifactCache _small;
    private readonly Endpoints.OpenFileCache _openFiles;
    private readonly SumDb.ChecksumVerifier _verifier;

    /// <summary>Fresh list/@latest/query answers as presented (merged), until their TTL ends; bounded by count and bytes.</summary>
    private readonly BoundedCache<byte[]> _fresh;

    public ModuleService(IModuleStore store, MetadataIndex index, UpstreamChain chain, NegativeCache negative, WarrenMetrics metrics,
        TimeProvider time, IOptions<WarrenOptions> options, IHostApplicationLifetime lifetime, ILogger<ModuleService> logger, SmallArtifactCache small, Endpoints.OpenFileCache openFiles,
        SumDb.ChecksumVerifier verifier)
    {
        _verifier = verifier;
        _small = small;
        _openFiles = openFiles;
        _store = store;
        _index = index;
        _chain = chain;
        _negative = negative;
        _metrics = metrics;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _lifetime = lifetime.ApplicationStopping;
        _fresh = new BoundedCache<byte[]>(Math.Min(MaxFreshAnswers, _options.MemoryCacheEntries), Math.Max(1, _options.MemoryCacheBytes / 4),
            static body => body.Length + 128, time: time);
    }

    /// <summary>.info, .mod or .zip of a canonical version.</summary>
    public async Task<ServeResult> GetArtifactAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken)
    {
        var label = kind switch
        {
            ArtifactKind.Info => "info",
            ArtifactKind.Mod => "mod",
            _ => "zip",
        };
        var key = label + ":" + modulePath + "@" + version;
        if (kind != ArtifactKind.Zip && _small.TryGet(key, out var cached))
        {
            _metrics.CacheHit(label);
            return new MemoryArtifactAnswer(cached);
        }

        if (kind == ArtifactKind.Zip && _openFiles.TryGet(key, out var open))
        {
            _metrics.CacheHit(label);
            return new OpenArtifactAnswer(open);
        }

        var hit = await _store.GetAsync(modulePath, version, kind, cancellationToken).ConfigureAwait(false);
        if (hit is not null)
        {
            if (kind == ArtifactKind.Zip && await RebuildZipHashAsync(modulePath, version, hit, cancellationToken).ConfigureAwait(false) is { } broken)
            {
                return broken;
            }

            _metrics.CacheHit(label);
            return await RememberSmallAsync(key, kind, hit, cancellationToken).ConfigureAwait(false);
        }

        if (_negative.TryGet(key, out var remembered))
        {
            return remembered;
        }

        _metrics.CacheMiss(label);
        var flight = await _flights.RunAsync(key, () => IngestAsync(modulePath, version, kind, key), cancellationToken, out var joined).ConfigureAwait(false);
        if (joined)
        {
            _metrics.Coalesced();
        }

        if (flight.Failure is { } failure)
        {
            return failure;
        }

        hit = await _store.GetAsync(modulePath, version, kind, cancellationToken).ConfigureAwait(false);
        return hit is not null
            ? await RememberSmallAsync(key, kind, hit, cancellationToken).ConfigureAwait(false)
            : Outcome.Refused(ReasonKind.StoreInconsistent, $"{modulePath}@{version}: stored {label} disappeared");
    }

    private async Task<ServeResult> RememberSmallAsync(string key, ArtifactKind kind, StoredArtifact artifact, CancellationToken cancellationToken)
    {
        if (kind == ArtifactKind.Zip)
        {
            return _openFiles.Open(key, artifact) is { } open ? new OpenArtifactAnswer(open) : new ArtifactAnswer(artifact);
        }

        if (artifact.Length > _small.MaxEntryBytes)
        {
            return new ArtifactAnswer(artifact);
        }

        var body = new byte[artifact.Length];
        await using (var stream = artifact.OpenRead())
        {
            await stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        }

        var cached = new CachedArtifact(body, artifact.ETag, artifact.LastModified);
        _small.Add(key, cached);
        return new MemoryArtifactAnswer(cached);
    }

    /// <summary>.info for a query that is not a canonical version (a branch, a tag, a commit prefix): asked upstream, answered canonically.</summary>
    public Task<ServeResult> QueryInfoAsync(string modulePath, string query, CancellationToken cancellationToken) =>
        MutableAsync($"query:{modulePath}@{query}", new ModuleRequest(modulePath, query, RequestKind.Info), body => ValidateInfo(modulePath, null, body), Identity,
            _ => Task.FromResult<byte[]?>(null), JsonType, onFresh: info => StoreQueriedInfoAsync(modulePath, info), cancellationToken);

    /// <summary>@v/list: upstream's list (cached with a TTL) merged with the versions the store holds.</summary>
    public Task<ServeResult> GetListAsync(string modulePath, CancellationToken cancellationToken) =>
        MutableAsync($"list:{modulePath}", new ModuleRequest(modulePath, null, RequestKind.List), static _ => null,
            async (body, ct) => MergeList(body, await _store.ListVersionsAsync(modulePath, ct).ConfigureAwait(false)), async ct =>
            {
                var held = await _store.ListVersionsAsync(modulePath, ct).ConfigureAwait(false);
                return held.Count > 0 ? MergeList([], held) : null;
            }, TextType, onFresh: null, cancellationToken);

    /// <summary>@latest: upstream's answer (cached with a TTL); when upstream has nothing to say, the highest version held.</summary>
    public Task<ServeResult> GetLatestAsync(string modulePath, CancellationToken cancellationToken) =>
        MutableAsync($"latest:{modulePath}", new ModuleRequest(modulePath, null, RequestKind.Latest), body => ValidateInfo(modulePath, null, body), Identity,
            ct => LatestHeldInfoAsync(modulePath, ct), JsonType, onFresh: null, cancellationToken);

    private static ValueTask<byte[]> Identity(byte[] body, CancellationToken cancellationToken) => ValueTask.FromResult(body);

    private async Task<byte[]?> LatestHeldInfoAsync(string modulePath, CancellationToken cancellationToken)
    {
        var held = await _store.ListVersionsAsync(modulePath, cancellationToken).ConfigureAwait(false);
        var releases = held.Where(v => !PseudoVersion.IsPseudoVersion(v)).ToList();
        var candidates = releases.Count > 0 ? releases : held.ToList();
        for (var i = candidates.Count - 1; i >= 0; i--)
        {
            var info = await _store.GetAsync(modulePath, candidates[i], ArtifactKind.Info, cancellationToken).ConfigureAwait(false);
            if (info is not null)
            {
                await using var stream = info.OpenRead();
                using var ms = new MemoryStream();
                await stream.CopyToAsync(ms, cancellationToken).ConfigureAwait(false);
                return ms.ToArray();
            }
        }

        return null;
    }

    private async Task<ServeResult> MutableAsync(string key, ModuleRequest request, Func<byte[], string?> validate, Func<byte[], CancellationToken, ValueTask<byte[]>> present,
        Func<CancellationToken, Task<byte[]?>> fallback, string contentType, Func<byte[], Task>? onFresh, CancellationToken cancellationToken)
    {
        var label = request.Kind == RequestKind.Info ? "query" : request.Kind.Label();
        var now = _time.GetUtcNow();
        if (_fresh.TryGet(key, out var remembered))
        {
            _metrics.CacheHit(label);
            return Content(remembered);
        }

        var cached = await _index.GetAnswerAsync(key, cancellationToken).ConfigureAwait(false);
        if (cached is not null && now - cached.FetchedAt < _options.ListTtl)
        {
            _metrics.CacheHit(label);
            return Remember(await present(cached.Body, cancellationToken).ConfigureAwait(false), cached.FetchedAt);
        }

        FlightResult flight;
        if (_negative.TryGet(key, out var negative))
        {
            flight = negative;
        }
        else
        {
            _metrics.CacheMiss(label);
            flight = await _flights.RunAsync(key, () => RefreshAsync(key, request, validate, onFresh), cancellationToken, out var joined).ConfigureAwait(false);
            if (joined)
            {
                _metrics.Coalesced();
            }
        }

        if (flight.Failure is not { } failure)
        {
            return Remember(await present(flight.Body!, cancellationToken).ConfigureAwait(false), now);
        }

        if (!failure.IsNotFound && cached is not null)
        {
            _metrics.StaleServed(label);
            Log.ServingStale(_logger, request.ToString(), failure.Message);
            return Content(await present(cached.Body, cancellationToken).ConfigureAwait(false));
        }

        var held = await fallback(cancellationToken).ConfigureAwait(false);
        if (held is not null)
        {
            if (!failure.IsNotFound)
            {
                _metrics.StaleServed(label);
                Log.ServingStale(_logger, request.ToString(), failure.Message);
            }

            return Content(held);
        }

        return failure;

        ContentAnswer Content(byte[] body) => new(body, contentType, _options.ListTtl);

        ContentAnswer Remember(byte[] body, DateTimeOffset fetchedAt)
        {
            var ttl = fetchedAt + _options.ListTtl - _time.GetUtcNow();
            if (ttl > TimeSpan.Zero)
            {
                _fresh.Set(key, body, ttl);
            }

            return Content(body);
        }
    }

    /// <summary>A new version in the store changes what list and @latest present: forget the remembered answers.</summary>
    private void Forget(string modulePath)
    {
        _fresh.Remove("list:" + modulePath);
        _fresh.Remove("latest:" + modulePath);
    }

    private async Task<FlightResult> RefreshAsync(string key, ModuleRequest request, Func<byte[], string?> validate, Func<byte[], Task>? onFresh)
    {
        var result = await _chain.FetchAsync(request, _store.NewStagingFile, _lifetime).ConfigureAwait(false);
        if (!result.Outcome.IsOk)
        {
            return Failure(key, request, result.Outcome);
        }

        byte[] body;
        try
        {
            body = await File.ReadAllBytesAsync(result.File!, _lifetime).ConfigureAwait(false);
        }
        finally
        {
            UpstreamChain.TryDelete(result.File!);
        }

        if (validate(body) is { } problem)
        {
            return Reject(request, result.Outcome.Source, "invalid_info", problem);
        }

        await _index.PutAnswerAsync(key, body, _time.GetUtcNow(), _lifetime).ConfigureAwait(false);
        if (onFresh is not null)
        {
            await onFresh(body).ConfigureAwait(false);
        }

        return new FlightResult(null, body);
    }

    private Outcome Failure(string key, ModuleRequest request, FetchOutcome outcome)
    {
        if (outcome.IsNotFound)
        {
            // The kind is already known; this only keeps the body from saying "not found" twice when upstream's reason
            // begins with it (as proxy.golang.org's do).
            var message = outcome.Reason.StartsWith("not found", StringComparison.OrdinalIgnoreCase) || outcome.Reason.StartsWith("gone", StringComparison.OrdinalIgnoreCase)
                ? outcome.Reason
                : "not found: " + outcome.Reason;
            var missing = Outcome.FromFetch(outcome, message);
            _negative.Add(key, missing, _options.NegativeTtl);
            return missing;
        }

        Log.UpstreamFailed(_logger, request.ToString(), outcome.Status, outcome.Reason);
        return Outcome.FromFetch(outcome, $"upstream failed: {outcome.Reason}");
    }

    private Outcome Reject(ModuleRequest request, string source, string metric, string problem)
    {
        _metrics.IngestRejected(metric);
        Log.Rejected(_logger, request.ToString(), source, problem);
        return Outcome.Refused(ReasonKind.InvalidArtifact, $"{request}: refused what {source} sent: {problem}");
    }

    private async Task StoreQueriedInfoAsync(string modulePath, byte[] info)
    {
        var version = ReadInfoVersion(info);
        if (version is null || ModuleVersion.Check(modulePath, version) is not null ||
            await _store.GetAsync(modulePath, version, ArtifactKind.Info, _lifetime).ConfigureAwait(false) is not null)
        {
            return;
        }

        var staged = _store.NewStagingFile();
        await File.WriteAllBytesAsync(staged, info, _lifetime).ConfigureAwait(false);
        await _store.CommitAsync(staged, modulePath, version, ArtifactKind.Info, _lifetime).ConfigureAwait(false);
        Forget(modulePath);
    }

    private async Task<FlightResult> IngestAsync(string modulePath, string version, ArtifactKind kind, string key)
    {
        var request = new ModuleRequest(modulePath, version, kind switch
        {
            ArtifactKind.Info => RequestKind.Info,
            ArtifactKind.Mod => RequestKind.Mod,
            _ => RequestKind.Zip,
        });
        var result = await _chain.FetchAsync(request, _store.NewStagingFile, _lifetime).ConfigureAwait(false);
        if (!result.Outcome.IsOk)
        {
            return Failure(key, request, result.Outcome);
        }

        var staged = result.File!;
        var source = result.Outcome.Source;
        try
        {
            return kind switch
            {
                ArtifactKind.Info => await IngestInfoAsync(request, staged, source).ConfigureAwait(false),
                ArtifactKind.Mod => await IngestModAsync(request, staged, source).ConfigureAwait(false),
                _ => await IngestZipAsync(request, staged, source).ConfigureAwait(false),
            };
        }
        finally
        {
            UpstreamChain.TryDelete(staged);
        }
    }

    private async Task<FlightResult> IngestInfoAsync(ModuleRequest request, string staged, string source)
    {
        var body = await File.ReadAllBytesAsync(staged, _lifetime).ConfigureAwait(false);
        if (ValidateInfo(request.ModulePath, request.Version, body) is { } problem)
        {
            return Reject(request, source, "invalid_info", problem);
        }

        await CommitAsync(request, staged, ArtifactKind.Info, null, body.Length, source).ConfigureAwait(false);
        return FlightResult.Stored;
    }

    private async Task<FlightResult> IngestModAsync(ModuleRequest request, string staged, string source)
    {
        var body = await File.ReadAllBytesAsync(staged, _lifetime).ConfigureAwait(false);
        if (CheckGoMod(request.ModulePath, body) is { } problem)
        {
            return Reject(request, source, "invalid_mod", problem);
        }

        var hash = DirHash.HashGoMod(body);
        var verdict = await _verifier.VerifyAsync(request.ModulePath, request.Version!, null, hash, source, _lifetime).ConfigureAwait(false);
        if (!verdict.IsOk)
        {
            return Outcome.FromVerdict(verdict);
        }

        await CommitAsync(request, staged, ArtifactKind.Mod, hash, body.Length, source).ConfigureAwait(false);
        return FlightResult.Stored;
    }

    private async Task<FlightResult> IngestZipAsync(ModuleRequest request, string staged, string source)
    {
        var (path, version) = (request.ModulePath, request.Version!);
        var check = ModuleZip.Check(staged, path, version, _lifetime);
        if (!check.IsValid)
        {
            return Reject(request, source, "invalid_zip", "invalid module zip: " + check.Error);
        }

        // The zip's go.mod must be the .mod the go command was (or will be) given.
        var mod = await GetArtifactAsync(path, version, ArtifactKind.Mod, _lifetime).ConfigureAwait(false);
        if (mod is Outcome error)
        {
            return error.IsNotFound
                ? Reject(request, source, "missing_mod", $"upstream has the zip but not the .mod ({error.Message})")
                : error.Because($"{request}: fetching the .mod to check the zip: {error.Message}");
        }

        byte[] modBytes;
        if (mod is MemoryArtifactAnswer memory)
        {
            modBytes = memory.Artifact.Body;
        }
        else
        {
            var modArtifact = ((ArtifactAnswer)mod).Artifact;
            modBytes = new byte[modArtifact.Length];
            await using var stream = modArtifact.OpenRead();
            await stream.ReadExactlyAsync(modBytes, _lifetime).ConfigureAwait(false);
        }

        // The go command hashes the .mod and the zip separately (a .mod may add retractions to a zip without go.mod):
        // a difference is legal, and the checksum database vouches for each. Where none does, it is reported.
        var expected = check.GoMod ?? SynthesizedGoMod(path);
        var unvouchedDifference = !modBytes.AsSpan().SequenceEqual(expected) && !_verifier.Vouches(path);

        var hash = check.ZipHash ?? DirHash.HashZip(staged, _lifetime);
        var modHash = DirHash.HashGoMod(modBytes);
        var verdict = await _verifier.VerifyAsync(path, version, hash, modHash, source, _lifetime).ConfigureAwait(false);
        if (!verdict.IsOk)
        {
            return Outcome.FromVerdict(verdict);
        }

        var hashFile = _store.NewStagingFile();
        await File.WriteAllTextAsync(hashFile, hash, _lifetime).ConfigureAwait(false);
        await _store.CommitAsync(hashFile, path, version, ArtifactKind.ZipHash, _lifetime).ConfigureAwait(false);
        await CommitAsync(request, staged, ArtifactKind.Zip, hash, new FileInfo(staged).Length, source).ConfigureAwait(false);
        await _verifier.LogAsync(path, version, hash, modHash, _lifetime).ConfigureAwait(false);
        if (unvouchedDifference)
        {
            _metrics.ModDiffersFromZip();
            Log.ModDiffersFromZip(_logger, request.ToString(), source, check.GoMod is null ? "the zip has no go.mod and the .mod is not the synthesized one" : "the go.mod in the zip differs from the .mod");
        }
        return FlightResult.Stored;
    }

    private async Task CommitAsync(ModuleRequest request, string staged, ArtifactKind kind, string? hash, long size, string source)
    {
        await _store.CommitAsync(staged, request.ModulePath, request.Version!, kind, _lifetime).ConfigureAwait(false);
        Forget(request.ModulePath);
        await _index.RecordArtifactAsync(request.ModulePath, request.Version!, kind, hash, size, source, _time.GetUtcNow(), _lifetime).ConfigureAwait(false);
        Log.Stored(_logger, request.ToString(), size, hash ?? "-", source);
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

        if (await _store.GetAsync(modulePath, version, ArtifactKind.Zip, cancellationToken).ConfigureAwait(false) is { } storedZip &&
            await RebuildZipHashAsync(modulePath, version, storedZip, cancellationToken).ConfigureAwait(false) is { } broken)
        {
            return new StoredHashes(null, null, broken);
        }

        var zipHash = await _store.GetAsync(modulePath, version, ArtifactKind.ZipHash, cancellationToken).ConfigureAwait(false);
        var mod = await _store.GetAsync(modulePath, version, ArtifactKind.Mod, cancellationToken).ConfigureAwait(false);
        if (zipHash is null || mod is null)
        {
            return new StoredHashes(null, null, Outcome.Refused(ReasonKind.StoreInconsistent, $"{modulePath}@{version}: stored hashes disappeared"));
        }

        string zip;
        await using (var stream = zipHash.OpenRead())
        using (var reader = new StreamReader(stream))
        {
            zip = (await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Trim();
        }

        var modBytes = new byte[mod.Length];
        await using (var stream = mod.OpenRead())
        {
            await stream.ReadExactlyAsync(modBytes, cancellationToken).ConfigureAwait(false);
        }

        return new StoredHashes(zip, DirHash.HashGoMod(modBytes), null);
    }

    /// <summary>A stored zip whose .ziphash is missing (lost, or deleted by hand) gets it back: the h1 is computed from
    /// the zip, which passed every check when it was ingested, and compared with the hash the index recorded then. Null
    /// when the .ziphash is there (again); a refusal when the zip no longer has the hash it was stored with.</summary>
    private async Task<Outcome?> RebuildZipHashAsync(string modulePath, string version, StoredArtifact zip, CancellationToken cancellationToken)
    {
        if (zip.PhysicalPath is not { } zipPath ||
            await _store.GetAsync(modulePath, version, ArtifactKind.ZipHash, cancellationToken).ConfigureAwait(false) is not null)
        {
            return null;
        }

        var hash = DirHash.HashZip(zipPath, cancellationToken);
        var recorded = await _index.GetHashAsync(modulePath, version, ArtifactKind.Zip, cancellationToken).ConfigureAwait(false);
        if (recorded is not null && !string.Equals(recorded, hash, StringComparison.Ordinal))
        {
            return Outcome.Refused(ReasonKind.StoreInconsistent, $"{modulePath}@{version}: the stored zip's hash {hash} differs from the {recorded} recorded when it was stored");
        }

        var staged = _store.NewStagingFile();
        await File.WriteAllTextAsync(staged, hash, cancellationToken).ConfigureAwait(false);
        if (await _store.CommitAsync(staged, modulePath, version, ArtifactKind.ZipHash, cancellationToken).ConfigureAwait(false))
        {
            Log.ZipHashRebuilt(_logger, modulePath, version, hash);
        }

        return null;
    }

    /// <summary>What the go command refuses in a dependency's go.mod: one that does not parse (modfile.ParseLax), has
    /// no module line, or declares another module path than the one requested. Null when it is usable.</summary>
    internal static string? CheckGoMod(string modulePath, byte[] body)
    {
        GoModFile file;
        try
        {
            file = GoModFile.ParseLax("go.mod", body);
        }
        catch (GoModParseException ex)
        {
            return "the .mod does not parse: " + Endpoints.ProxyRequestParser.Printable(ex.Message.Split('\n')[0]);
        }

        if (string.IsNullOrEmpty(file.Module))
        {
            return "the .mod has no module line";
        }

        return file.Module == modulePath
            ? null
            : $"the .mod declares its path as {Endpoints.ProxyRequestParser.Printable(file.Module)}, not {modulePath}";
    }

    /// <summary>The go.mod the go command uses for a module whose zip has none.</summary>
    public static byte[] SynthesizedGoMod(string modulePath) => Encoding.UTF8.GetBytes("module " + modulePath + "\n");

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

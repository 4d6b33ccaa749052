using System.Collections.Concurrent;
using System.Diagnostics;
using Warren.Protocol;
using Warren.Protocol.GoProxy;
using Warren.Protocol.SumDb;
using Warren.Server.Storage;

namespace Warren.Server.SumDb;

/// <summary>The verdict on a module's hashes: accepted, or refused with a one-line reason (TimedOut: the checksum
/// database did not answer in time).</summary>
public sealed record ChecksumVerdict(bool IsOk, bool TimedOut, string Message)
{
    public static readonly ChecksumVerdict Ok = new(true, false, "");

    public static ChecksumVerdict Refused(string message, bool timedOut = false) => new(false, timedOut, SumDbLookupResult.OneLine(message));
}

/// <summary>Checks the hashes of every module version Warren ingests against a checksum database, as the policy
/// decides for its path, and logs accepted versions in the hosted database. Nothing is stored unless this says yes.</summary>
/// <remarks>Against the configured database the record is looked up at its URL, or through the first upstream proxy's
/// /sumdb/NAME/ when no URL is given (as the go command does), then https://NAME; the signed tree head and the
/// record's inclusion proof are verified, and every head is checked to extend the last one verified (kept in the store
/// under .warren/sumdb). Tiles are cached in the store beside the ones the /sumdb/ proxy serves. Private paths never
/// reach that database.</remarks>
public sealed class ChecksumVerifier
{
    private const int MaxRemembered = 100_000;

    private readonly ChecksumPolicy _policy;
    private readonly HostedSumDb _hosted;
    private readonly IReadOnlyList<SumDbClient> _candidates;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _selecting = new(1, 1);
    private SumDbClient? _client;
    private readonly WarrenMetrics _metrics;
    private readonly ILogger<ChecksumVerifier> _logger;
    private readonly ConcurrentDictionary<string, SumDbLookupResult> _verified = new(StringComparer.Ordinal);
    private readonly IModuleIndex _index;
    private readonly TimeProvider _time;

    /// <summary>The name of the checksum database client in the <see cref="IHttpClientFactory"/>.</summary>
    public const string ClientName = "warren-sumdb";

    public ChecksumVerifier(IOptions<WarrenOptions> options, ProtocolSettings settings, ChecksumPolicy policy, HostedSumDb hosted, IArtifactStore store, IModuleIndex index, StagingArea staging,
        WarrenMetrics metrics, ILogger<ChecksumVerifier> logger, IHttpClientFactory httpClients, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _index = index;
        _time = time ?? TimeProvider.System;
        _policy = policy;
        _hosted = hosted;
        _metrics = metrics;
        _logger = logger;
        _http = httpClients.CreateClient(ClientName);
        var config = settings.SumDb;
        if (config?.EffectiveKey is { } key)
        {
            // Tiles are the store's objects beside the ones the /sumdb/ proxy serves; the tree head is in the index.
            var cache = new StoreSumDbCache(store, index, staging, config.Name);
            _candidates = [.. SumDbEndpoints.BaseUrlsFor(config, settings.Upstream).Select(url => new SumDbClient(key, url, _http, cache))];
            if (_candidates.Count == 1)
            {
                _client = _candidates[0];
            }
        }
        else
        {
            _candidates = [];
        }
    }

    /// <summary>The configured database's client (null when off): at its URL, else through the first upstream proxy
    /// that answers /sumdb/NAME/supported with 200, else at https://NAME/ (the go command's rule). The choice is made
    /// once, unless no proxy could be asked (a network failure), when it is made again next time.</summary>
    public async Task<SumDbClient?> GetClientAsync(CancellationToken cancellationToken)
    {
        if (_client is not null || _candidates.Count == 0)
        {
            return _client;
        }

        await _selecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is not null)
            {
                return _client;
            }

            var unsure = false;
            for (var i = 0; i < _candidates.Count - 1; i++)
            {
                var status = await ProbeSupportedAsync(_candidates[i].BaseUrl, cancellationToken).ConfigureAwait(false);
                if (status == 200)
                {
                    return _client = _candidates[i];
                }

                unsure |= status is null;
            }

            var fallback = _candidates[^1];
            if (!unsure)
            {
                _client = fallback;
            }

            return fallback;
        }
        finally
        {
            _selecting.Release();
        }
    }

    /// <summary>The status of BASE/supported, or null when there was no answer.</summary>
    private async Task<int?> ProbeSupportedAsync(Uri baseUrl, CancellationToken cancellationToken)
    {
        var result = await new GoProxyClient(_http).GetAsync(new Uri(baseUrl, "supported"), Stream.Null, 1 << 16, cancellationToken).ConfigureAwait(false);
        return result.HttpStatus;
    }

    /// <summary>Whether a checksum database (the configured one or the hosted one) vouches for the hashes of this path;
    /// false when its policy is skip.</summary>
    public bool Vouches(string modulePath) => _policy.Decide(modulePath).Mode != ChecksumMode.Skip;

    /// <summary>Checks the given hashes (either may be null: not computed yet) of module@version from source.</summary>
    public async Task<ChecksumVerdict> VerifyAsync(string modulePath, string version, string? zipHash, string? goModHash, string source,
        CancellationToken cancellationToken)
    {
        using var activity = Warren.Core.Diagnostics.WarrenActivity.Source.StartActivity(Warren.Core.Diagnostics.WarrenActivity.Verify);
        activity?.SetTag("warren.module", modulePath).SetTag("warren.version", version);
        var decision = _policy.Decide(modulePath);
        switch (decision.Mode)
        {
            case ChecksumMode.Skip:
                return ChecksumVerdict.Ok;
            case ChecksumMode.Hosted:
                return await VerifyHostedAsync(modulePath, version, zipHash, goModHash, source, cancellationToken).ConfigureAwait(false);
            default:
                return await VerifySumDbAsync(modulePath, version, zipHash, goModHash, source, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Logs an accepted module version in the hosted database when the policy says so. Failures are logged and
    /// do not fail the request: the version is logged when it is next looked up.</summary>
    public async Task LogAsync(string modulePath, string version, string zipHash, string goModHash, CancellationToken cancellationToken)
    {
        if (!_hosted.IsEnabled || !_policy.Decide(modulePath).LogInHosted)
        {
            return;
        }

        try
        {
            await _hosted.AppendAsync(modulePath, version, zipHash, goModHash, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Log.HostedAppendFailed(_logger, modulePath, version, _hosted.Name!, e);
        }
    }

    private async Task<ChecksumVerdict> VerifyHostedAsync(string modulePath, string version, string? zipHash, string? goModHash, string source,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var logged = await _hosted.FindAsync(modulePath, version, cancellationToken).ConfigureAwait(false);
        if (logged is null)
        {
            // Trust on first use: the version is logged once it is stored.
            _metrics.SumDbVerification("hosted", "first_use", Stopwatch.GetElapsedTime(started));
            return ChecksumVerdict.Ok;
        }

        var mismatch = SumDbClient.CompareHashes(modulePath, version, source, _hosted.Name!, zipHash, goModHash, logged.Value.ZipHash, logged.Value.GoModHash);
        return Judge("hosted", modulePath, version, source, mismatch, started);
    }

    private async Task<ChecksumVerdict> VerifySumDbAsync(string modulePath, string version, string? zipHash, string? goModHash, string source,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var key = modulePath + "@" + version;
        var client = (await GetClientAsync(cancellationToken).ConfigureAwait(false))!;
        if (!_verified.TryGetValue(key, out var result))
        {
            result = await client.LookupAsync(modulePath, version, cancellationToken).ConfigureAwait(false);
            if (result.IsOk)
            {
                if (_verified.Count >= MaxRemembered)
                {
                    _verified.Clear();
                }

                _verified[key] = result;
            }
        }

        if (result.IsOk)
        {
            var verdict = Judge("sumdb", modulePath, version, source, client.CompareHashes(modulePath, version, source, zipHash, goModHash, result), started);
            if (verdict.IsOk)
            {
                await RecordProvenanceAsync(client, modulePath, version, cancellationToken).ConfigureAwait(false);
            }

            return verdict;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        switch (result.Status)
        {
            case SumDbLookupStatus.Fork:
                _metrics.SumDbVerification("sumdb", "fork", elapsed);
                Log.SumDbFork(_logger, client.Name, result.Message);
                return ChecksumVerdict.Refused($"verifying {key}: {result.Message}");
            case SumDbLookupStatus.NotFound:
                _metrics.SumDbVerification("sumdb", "not_found", elapsed);
                Log.VerificationFailed(_logger, modulePath, version, client.Name, result.Message);
                return ChecksumVerdict.Refused($"verifying {key}: {result.Message}; not stored (set no-sumdb or a policy for modules the database cannot know)");
            case SumDbLookupStatus.Invalid:
                _metrics.SumDbVerification("sumdb", "invalid", elapsed);
                Log.VerificationFailed(_logger, modulePath, version, client.Name, result.Message);
                return ChecksumVerdict.Refused($"verifying {key}: {result.Message}");
            default:
                _metrics.SumDbVerification("sumdb", "failed", elapsed);
                Log.VerificationFailed(_logger, modulePath, version, client.Name, result.Message);
                return ChecksumVerdict.Refused($"verifying {key}: checksum database unavailable: {result.Message}", timedOut: result.TimedOut);
        }
    }

    /// <summary>Remembers in the index which database vouched for the version at which tree size (the latest verified
    /// tree head, which proved the record): the console shows it as the version's provenance. Best effort.</summary>
    private async Task RecordProvenanceAsync(SumDbClient client, string modulePath, string version, CancellationToken cancellationToken)
    {
        try
        {
            var head = await client.ReadStoredTreeHeadAsync(cancellationToken).ConfigureAwait(false);
            await _index.RecordVerificationAsync(new VersionVerification(modulePath, version, client.Name, head?.Size ?? -1, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException)
        {
            Log.ProvenanceNotRecorded(_logger, modulePath, version, e.Message);
        }
    }

    private ChecksumVerdict Judge(string database, string modulePath, string version, string source, string? mismatch, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (mismatch is null)
        {
            _metrics.SumDbVerification(database, "ok", elapsed);
            return ChecksumVerdict.Ok;
        }

        _metrics.SumDbVerification(database, "mismatch", elapsed);
        _metrics.ChecksumMismatch(database);
        Log.ChecksumMismatch(_logger, modulePath, version, source, mismatch);
        return ChecksumVerdict.Refused(mismatch);
    }
}

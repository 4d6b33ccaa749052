using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Warren.Core.SumDb;
using Warren.Protocol;
using Warren.Protocol.SumDb;
using Warren.Server.Ingest;
using Warren.Server.Storage;
using Warren.Server.Upstream;

namespace Warren.Server.SumDb;

/// <summary>Proxies /sumdb/NAME/… for the configured checksum database: lookups and tiles are immutable and kept
/// forever in the store (where the go command keeps them too: sumdb/NAME/…); latest is cached with the list TTL.</summary>
public sealed partial class SumDbProxy(IArtifactStore store, IModuleIndex index, StagingArea staging, HttpDownloader downloader, NegativeCache negative,
    WarrenMetrics metrics, TimeProvider time, IOptions<WarrenOptions> options, IHostApplicationLifetime lifetime, ILogger<SumDbProxy> logger,
    HostedSumDbHandler hosted, ChecksumPolicy policy, ChecksumVerifier verifier, ProtocolSettings settings)
{
    private const string RefusedHead = "refused the checksum database's latest tree head: ";

    private readonly SumDbConfig? _config = settings.ProxiedSumDb;
    private readonly IReadOnlyList<Uri> _bases = settings.ProxiedSumDb is { } config ? SumDbEndpoints.BaseUrlsFor(config, settings.Upstream) : [];
    private readonly WarrenOptions _options = options.Value;
    private readonly CancellationToken _lifetime = lifetime.ApplicationStopping;
    private readonly SingleFlight<FlightResult> _flights = new();

    [GeneratedRegex(@"^tile/[0-9]{1,2}/(?:[0-9]{1,2}|data)/(?:x[0-9]{3}/)*[0-9]{3}(?:\.p/[0-9]{1,3})?$", RegexOptions.CultureInvariant)]
    private static partial Regex TilePath();

    /// <summary>Answers the part of the URL after "/sumdb/".</summary>
    public async Task<ServeResult> HandleAsync(string rest, CancellationToken cancellationToken)
    {
        if (hosted.Matches(rest, out var hostedSub))
        {
            return await hosted.HandleAsync(hostedSub, cancellationToken).ConfigureAwait(false);
        }

        if (_config is null || !rest.StartsWith(_config.Name + "/", StringComparison.Ordinal))
        {
            return Outcome.NotFound("not found: this proxy does not serve that checksum database");
        }

        var sub = rest[(_config.Name.Length + 1)..];
        if (sub == "supported")
        {
            return new ContentAnswer([], "text/plain; charset=utf-8", _options.ListTtl);
        }

        if (sub == "latest")
        {
            return await LatestAsync(cancellationToken).ConfigureAwait(false);
        }

        if (sub.StartsWith("lookup/", StringComparison.Ordinal))
        {
            if (ValidateLookup(sub["lookup/".Length..], out var path, out _) is { } problem)
            {
                return Outcome.BadRequest("invalid lookup: " + problem);
            }

            if (policy.IsPrivate(path))
            {
                // A go client without GONOSUMDB/GOPRIVATE would leak the path; Warren does not pass it on.
                return Outcome.Forbidden($"forbidden: {path} is private (no-sumdb/private patterns); it is not sent to checksum database {_config.Name}");
            }
        }
        else if (!TilePath().IsMatch(sub))
        {
            return Outcome.NotFound("not found: unknown checksum database endpoint");
        }

        return await ImmutableAsync(sub, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks the "MODULE@VERSION" of a lookup URL (escaped); null when valid, with the module path and the
    /// canonical version (a "/go.mod" suffix removed), else the problem.</summary>
    internal static string? ValidateLookup(string escaped, out string path, out string version)
    {
        path = "";
        version = "";
        var at = escaped.LastIndexOf('@');
        if (at <= 0)
        {
            return "want MODULE@VERSION";
        }

        if (!ModulePath.TryUnescapePath(escaped[..at], out path, out var error))
        {
            return error;
        }

        if (!ModulePath.TryUnescapeVersion(escaped[(at + 1)..], out version, out error))
        {
            return error;
        }

        if (version.EndsWith(GoSumLine.GoModSuffix, StringComparison.Ordinal))
        {
            version = version[..^GoSumLine.GoModSuffix.Length];
        }

        return ModuleVersion.Check(path, version);
    }

    private async Task<ServeResult> ImmutableAsync(string sub, CancellationToken cancellationToken)
    {
        var relative = StoreLayout.SumDbPrefix(_config!.Name) + sub;
        if (!StoreLayout.IsValidKey(relative))
        {
            // A valid module path may hold names the store does not take as keys (an element "..", say).
            return await UncachedAsync(sub).ConfigureAwait(false);
        }

        var hit = await store.GetAsync(relative, cancellationToken).ConfigureAwait(false);
        if (hit is not null)
        {
            metrics.CacheHit("sumdb");
            return new ArtifactAnswer(hit);
        }

        var key = "sumdb:" + relative;
        if (negative.TryGet(key, out var remembered))
        {
            return remembered;
        }

        metrics.CacheMiss("sumdb");
        var flight = await _flights.RunAsync(key, async () =>
        {
            var (outcome, file) = await FetchAsync(sub).ConfigureAwait(false);
            if (!outcome.IsOk)
            {
                return Failure(key, outcome);
            }

            try
            {
                // A lookup is kept forever: only once it is proven (signed head, timeline, inclusion proof).
                if (sub.StartsWith("lookup/", StringComparison.Ordinal) &&
                    await VerifyLookupAsync(sub["lookup/".Length..], file!).ConfigureAwait(false) is { } refusal)
                {
                    return refusal;
                }

                await store.PutIfAbsentAsync(relative, file!, _lifetime).ConfigureAwait(false);
            }
            finally
            {
                UpstreamChain.TryDelete(file!);
            }

            return FlightResult.Stored;
        }, cancellationToken, out _).ConfigureAwait(false);
        if (flight.Failure is { } failure)
        {
            return failure;
        }

        hit = await store.GetAsync(relative, cancellationToken).ConfigureAwait(false);
        return hit is not null ? new ArtifactAnswer(hit) : Outcome.Refused(ReasonKind.StoreInconsistent, "stored checksum database content disappeared");
    }

    private async Task<FlightResult?> VerifyLookupAsync(string escaped, string file)
    {
        if (await verifier.GetClientAsync(_lifetime).ConfigureAwait(false) is not { } client || client.Name != _config!.Name)
        {
            return null;
        }

        if (ValidateLookup(escaped, out var path, out var version) is { } problem)
        {
            return Outcome.BadRequest("invalid lookup: " + problem);
        }

        var body = await File.ReadAllBytesAsync(file, _lifetime).ConfigureAwait(false);
        var check = await client.VerifyLookupBodyAsync(path, version, body, _lifetime).ConfigureAwait(false);
        if (check.IsOk)
        {
            return null;
        }

        if (check.Status == SumDbLookupStatus.Fork)
        {
            Log.SumDbFork(logger, _config.Name, check.Message);
        }

        return Outcome.Refused(ReasonKind.SumDbUnverified, "refused the checksum database's answer: " + check.Message);
    }

    private async Task<ServeResult> UncachedAsync(string sub)
    {
        var (outcome, file) = await FetchAsync(sub).ConfigureAwait(false);
        if (!outcome.IsOk)
        {
            return Failure("sumdb:" + sub, outcome);
        }

        try
        {
            return new ContentAnswer(await File.ReadAllBytesAsync(file!, _lifetime).ConfigureAwait(false), "text/plain; charset=utf-8", TimeSpan.Zero);
        }
        finally
        {
            UpstreamChain.TryDelete(file!);
        }
    }

    private async Task<ServeResult> LatestAsync(CancellationToken cancellationToken)
    {
        if (_options.Offline)
        {
            // The head an imported bundle brought (warren import keeps the newest).
            var relative = StoreLayout.SumDbPrefix(_config!.Name) + "latest";
            return await store.GetAsync(relative, cancellationToken).ConfigureAwait(false) is { } imported
                ? new ContentAnswer(await imported.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false), "text/plain; charset=utf-8", TimeSpan.Zero)
                : Outcome.NotFound($"not found: {relative} is not in this offline mirror");
        }

        var key = "sumdb-latest:" + _config!.Name;
        var cached = await index.GetAnswerAsync(key, cancellationToken).ConfigureAwait(false);
        if (cached is not null && time.GetUtcNow() - cached.FetchedAt < _options.ListTtl)
        {
            metrics.CacheHit("sumdb_latest");
            return new ContentAnswer(cached.Body, "text/plain; charset=utf-8", TimeSpan.Zero);
        }

        metrics.CacheMiss("sumdb_latest");
        var flight = await _flights.RunAsync(key, async () =>
        {
            var (outcome, file) = await FetchAsync("latest").ConfigureAwait(false);
            if (!outcome.IsOk)
            {
                return Failure(key, outcome);
            }

            try
            {
                var body = await File.ReadAllBytesAsync(file!, _lifetime).ConfigureAwait(false);

                // The head is checked like the verifier's own: a forked or forged log is not passed on.
                if (await verifier.GetClientAsync(_lifetime).ConfigureAwait(false) is { } client && client.Name == _config.Name)
                {
                    var check = await client.CheckTreeNoteAsync(body, _lifetime).ConfigureAwait(false);
                    if (!check.IsOk)
                    {
                        if (check.Status == SumDbLookupStatus.Fork)
                        {
                            Log.SumDbFork(logger, _config.Name, check.Message);
                        }

                        return Outcome.Refused(ReasonKind.SumDbUnverified, RefusedHead + check.Message);
                    }
                }

                await index.PutAnswerAsync(key, body, time.GetUtcNow(), _lifetime).ConfigureAwait(false);
                return new FlightResult(null, body);
            }
            finally
            {
                UpstreamChain.TryDelete(file!);
            }
        }, cancellationToken, out _).ConfigureAwait(false);

        if (flight.Failure is not { } failure)
        {
            return new ContentAnswer(flight.Body!, "text/plain; charset=utf-8", TimeSpan.Zero);
        }

        // Only an outage is bridged by the stale copy: a head that failed verification is an alarm, and no stale copy hides it.
        if (cached is not null && failure.IsOutage)
        {
            metrics.StaleServed("sumdb_latest");
            Log.ServingStale(logger, "sumdb latest", failure.Message);
            return new ContentAnswer(cached.Body, "text/plain; charset=utf-8", TimeSpan.Zero);
        }

        return failure;
    }

    private Outcome Failure(string key, FetchOutcome outcome)
    {
        if (outcome.IsNotFound)
        {
            // The kind is already known; this only keeps the body from saying "not found" twice.
            var message = outcome.Reason.StartsWith("not found", StringComparison.OrdinalIgnoreCase) ? outcome.Reason : "not found: " + outcome.Reason;
            var missing = Outcome.FromFetch(outcome, message);
            negative.Add(key, missing, _options.NegativeTtl);
            return missing;
        }

        return Outcome.FromFetch(outcome, "upstream failed: " + outcome.Reason);
    }

    /// <summary>Where the database is reached, by the go command's rule (<see cref="SumDbEndpoints"/>): the configured
    /// URL alone; else each upstream proxy's /sumdb/NAME/ (falling through on any error), then the database itself.</summary>
    private async Task<(FetchOutcome Outcome, string? File)> FetchAsync(string sub)
    {
        if (_options.Offline)
        {
            return (FetchOutcome.NotFound("offline", $"sumdb/{_config!.Name}/{sub} is not in this offline mirror"), null);
        }

        FetchOutcome? last = null;
        foreach (var b in _bases)
        {
            var file = staging.NewFile();
            var uri = new Uri(b.AbsoluteUri + sub);
            var (outcome, _) = await metrics.MeasureFetchAsync("sumdb",
                () => downloader.DownloadAsync(uri, HttpDownloader.Redact(b), file, 16L << 20, _lifetime)).ConfigureAwait(false);
            if (outcome.IsOk)
            {
                return (outcome, file);
            }

            UpstreamChain.TryDelete(file);
            last = outcome;
            if (outcome.IsNotFound && _config!.Url is not null)
            {
                break;
            }
        }

        return (last!, null);
    }
}

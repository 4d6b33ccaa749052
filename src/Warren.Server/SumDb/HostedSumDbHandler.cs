using Warren.Core.SumDb;
using Warren.Server.Ingest;

namespace Warren.Server.SumDb;

/// <summary>Serves the hosted checksum database under /sumdb/NAME/: supported, latest, lookup and tile. A lookup of
/// a version not logged yet fetches and checks the module (through the upstream chain, verified against the public
/// database where the policy says so) and logs it first, as sum.golang.org does.</summary>
public sealed class HostedSumDbHandler
{
    private const string TextType = "text/plain; charset=utf-8";

    private readonly HostedSumDb _hosted;
    private readonly ChecksumPolicy _policy;
    private readonly ChecksumVerifier _verifier;
    private readonly ModuleService _modules;
    private readonly WarrenOptions _options;

    public HostedSumDbHandler(HostedSumDb hosted, ChecksumPolicy policy, ChecksumVerifier verifier, ModuleService modules, IOptions<WarrenOptions> options)
    {
        _hosted = hosted;
        _policy = policy;
        _verifier = verifier;
        _modules = modules;
        _options = options.Value;
    }

    /// <summary>Whether rest ("NAME/…") addresses the hosted database; sub is what follows "NAME/".</summary>
    public bool Matches(string rest, out string sub)
    {
        sub = "";
        if (_hosted.Name is not { } name || !rest.StartsWith(name + "/", StringComparison.Ordinal))
        {
            return false;
        }

        sub = rest[(name.Length + 1)..];
        return true;
    }

    public async Task<ServeResult> HandleAsync(string sub, CancellationToken cancellationToken)
    {
        if (sub == "supported")
        {
            return new ContentAnswer([], TextType, TimeSpan.Zero);
        }

        if (sub == "latest")
        {
            return new ContentAnswer(await _hosted.Log.GetLatestAsync(cancellationToken).ConfigureAwait(false), TextType, TimeSpan.Zero);
        }

        if (sub.StartsWith("lookup/", StringComparison.Ordinal))
        {
            return await LookupAsync(sub["lookup/".Length..], cancellationToken).ConfigureAwait(false);
        }

        if (sub.StartsWith("tile/", StringComparison.Ordinal) && Tile.TryParsePath(sub, out var tile))
        {
            var data = await _hosted.Log.ReadTileAsync(tile, cancellationToken).ConfigureAwait(false);
            if (data is null)
            {
                return Outcome.NotFound($"not found: {sub} is beyond the tree of size {_hosted.Log.Size}");
            }

            // A full tile never changes; a partial one is replaced by a wider one as the log grows.
            return new ContentAnswer(data, "application/octet-stream", tile.IsFull ? _options.ImmutableMaxAge : TimeSpan.Zero);
        }

        return Outcome.NotFound("not found: unknown checksum database endpoint");
    }

    private async Task<ServeResult> LookupAsync(string escaped, CancellationToken cancellationToken)
    {
        if (SumDbProxy.ValidateLookup(escaped, out var path, out var version) is { } problem)
        {
            return Outcome.BadRequest("invalid lookup: " + problem);
        }

        if (await _hosted.Log.LookupResponseAsync(path, version, cancellationToken).ConfigureAwait(false) is { } logged)
        {
            return new ContentAnswer(logged, TextType, TimeSpan.Zero);
        }

        var decision = _policy.Decide(path);
        if (!decision.LogInHosted)
        {
            return Outcome.NotFound($"not found: {path} is not logged in checksum database {_hosted.Name} (policy: {decision.Mode.ToString().ToLowerInvariant()})");
        }

        // Fetch, check and store the module; ingest logs it.
        var hashes = await _modules.GetHashesAsync(path, version, cancellationToken).ConfigureAwait(false);
        if (hashes.Error is { } refusal)
        {
            return refusal;
        }

        if (await _hosted.Log.LookupResponseAsync(path, version, cancellationToken).ConfigureAwait(false) is null)
        {
            // Stored before this database was hosted (or its logging failed): check it now, then log it.
            var verdict = await _verifier.VerifyAsync(path, version, hashes.ZipHash, hashes.GoModHash, "the store", cancellationToken).ConfigureAwait(false);
            if (!verdict.IsOk)
            {
                return Outcome.FromVerdict(verdict);
            }

            var appended = await _hosted.AppendAsync(path, version, hashes.ZipHash!, hashes.GoModHash!, cancellationToken).ConfigureAwait(false);
            if (appended.Status == HostedAppendStatus.Conflict)
            {
                return Outcome.Refused(ReasonKind.NotLogged, $"checksum mismatch: {path}@{version}: the store has {hashes.ZipHash} {hashes.GoModHash}, " +
                                            $"checksum database {_hosted.Name} logged {appended.ExistingZipHash} {appended.ExistingGoModHash}");
            }
        }

        return await _hosted.Log.LookupResponseAsync(path, version, cancellationToken).ConfigureAwait(false) is { } body
            ? new ContentAnswer(body, TextType, TimeSpan.Zero)
            : Outcome.Refused(ReasonKind.NotLogged, $"{path}@{version}: not logged in checksum database {_hosted.Name}");
    }
}

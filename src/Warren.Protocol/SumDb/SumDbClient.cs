using System.Globalization;
using System.Net;
using System.Text;
using Warren.Core.SumDb;
using Warren.Protocol.GoProxy;

namespace Warren.Protocol.SumDb;

/// <summary>A client of a checksum database (golang.org/x/mod/sumdb.Client): looks up the go.sum lines of a module
/// version, authenticating them against the database's signed tree heads and checking that every head it sees lies on
/// one timeline with the latest head it has verified before, which it persists.</summary>
/// <remarks>
/// <para>Endpoints are relative to the base URL: "latest", "lookup/&lt;path&gt;@&lt;version&gt;" and
/// "tile/H/L/NNN[.p/W]". For sum.golang.org the base URL is "https://sum.golang.org/"; through a proxy it is
/// "&lt;proxy&gt;/sumdb/sum.golang.org/".</para>
/// <para>The latest verified signed tree note and the authenticated tiles are kept in an <see cref="ISumDbCache"/>:
/// the note under <see cref="StateName"/> (named after the key, so a new key starts a new timeline). It only moves
/// forward, and only to heads proven to extend it, through the cache's compare-and-swap: a client that loses the race
/// re-reads the head and checks again. A head that does not extend it (a fork) is reported and never stored.</para>
/// <para>Thread-safe. Lookups verify concurrently; checks of the stored head are serialised within this instance.</para>
/// </remarks>
public sealed class SumDbClient
{
    private const long MaxLookupBytes = 1 << 20;

    private readonly NoteVerifier _verifier;
    private readonly NoteVerifierList _verifiers;
    private readonly Uri _baseUrl;
    private readonly GoProxyClient _http;
    private readonly ISumDbCache _cache;
    private readonly int _tileHeight;
    private readonly SemaphoreSlim _latestLock = new(1, 1);

    /// <summary>The last signed note whose signature verified, and its tree: the same bytes need no second Ed25519
    /// check (lookups mostly carry the same head, and the stored head is re-read for every merge).</summary>
    private volatile VerifiedNote? _lastVerified;

    private sealed record VerifiedNote(byte[] Note, TreeHead Tree);

    /// <param name="verifierKey">The database's note verifier key, "name+hash+key".</param>
    /// <param name="baseUrl">The base URL of the database's endpoints.</param>
    /// <param name="http">The client to fetch with (its timeout applies to each request).</param>
    /// <param name="stateDirectory">Where the latest verified tree head is persisted.</param>
    /// <param name="tileCacheDirectory">Where authenticated tiles are cached.</param>
    /// <param name="tileHeight">The database's tile height (8 for sum.golang.org).</param>
    /// <exception cref="ArgumentException">The key does not parse, or the URL is not absolute http(s).</exception>
    public SumDbClient(string verifierKey, Uri baseUrl, HttpClient http, string stateDirectory, string tileCacheDirectory,
        int tileHeight = SumDbProtocol.DefaultTileHeight)
        : this(verifierKey, baseUrl, http, new DirectorySumDbCache(stateDirectory, tileCacheDirectory), tileHeight)
    {
    }

    /// <param name="verifierKey">The database's note verifier key, "name+hash+key".</param>
    /// <param name="baseUrl">The base URL of the database's endpoints.</param>
    /// <param name="http">The client to fetch with (its timeout applies to each request).</param>
    /// <param name="cache">Where the latest verified tree head and authenticated tiles are kept.</param>
    /// <param name="tileHeight">The database's tile height (8 for sum.golang.org).</param>
    /// <exception cref="ArgumentException">The key does not parse, or the URL is not absolute http(s).</exception>
    public SumDbClient(string verifierKey, Uri baseUrl, HttpClient http, ISumDbCache cache, int tileHeight = SumDbProtocol.DefaultTileHeight)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileHeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tileHeight, Tile.MaxHeight);
        if (!NoteVerifier.TryParse(verifierKey, out var verifier, out var error))
        {
            throw new ArgumentException($"invalid checksum database key: {error}", nameof(verifierKey));
        }

        if (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"checksum database URL must be absolute http(s): {baseUrl}", nameof(baseUrl));
        }

        _verifier = verifier;
        _verifiers = new NoteVerifierList(verifier);
        _baseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _http = new GoProxyClient(http);
        _cache = cache;
        _tileHeight = tileHeight;
        StateName = StateNameOf(verifier);
    }

    /// <summary>The base URL lookups and tiles are fetched from.</summary>
    public Uri BaseUrl => _baseUrl;

    /// <summary>The database's name (from its key).</summary>
    public string Name => _verifier.Name;

    /// <summary>The name the latest verified signed tree note is kept under in the cache: the database's name and
    /// key hash ("sum.golang.org-033de0ae").</summary>
    public string StateName { get; }

    /// <summary>Where the tree head and tiles are kept.</summary>
    public ISumDbCache Cache => _cache;

    /// <summary>The latest verified tree head as persisted, or null if none has been stored yet.</summary>
    /// <exception cref="InvalidDataException">The stored note does not verify with the key.</exception>
    public async Task<TreeHead?> ReadStoredTreeHeadAsync(CancellationToken cancellationToken = default) =>
        await _cache.GetTreeHeadAsync(StateName, cancellationToken).ConfigureAwait(false) is { } note ? OpenStored(note) : null;

    /// <summary>TreeHead.OpenSigned, remembering the last note that verified.</summary>
    private TreeHead OpenVerified(ReadOnlySpan<byte> note)
    {
        if (_lastVerified is { } last && note.SequenceEqual(last.Note))
        {
            return last.Tree;
        }

        var tree = TreeHead.OpenSigned(note, _verifiers);
        _lastVerified = new VerifiedNote(note.ToArray(), tree);
        return tree;
    }

    /// <summary>Looks up the go.sum hashes of module@version (a "/go.mod" suffix on version is ignored).</summary>
    /// <exception cref="ArgumentException">The path or version cannot be escaped for a lookup.</exception>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled.</exception>
    public async Task<SumDbLookupResult> LookupAsync(string modulePath, string version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);
        if (version.EndsWith(GoSumLine.GoModSuffix, StringComparison.Ordinal))
        {
            version = version[..^GoSumLine.GoModSuffix.Length];
        }

        string lookupPath = SumDbProtocol.LookupPath(modulePath, version);
        string what = $"{modulePath}@{version}";
        try
        {
            // 1. Fetch.
            var (status, body) = await SumDbClientHttp.GetAsync(_http, _baseUrl, lookupPath, MaxLookupBytes, cancellationToken).ConfigureAwait(false);
            if (status == HttpStatusCode.NotFound || status == HttpStatusCode.Gone)
            {
                return SumDbLookupResult.NotFound($"{what}: not found in checksum database {Name} ({(int)status})");
            }

            if (status != HttpStatusCode.OK)
            {
                throw SumDbClientHttp.StatusError(_baseUrl, lookupPath, status);
            }

            return await VerifyLookupBodyAsync(modulePath, version, body!, cancellationToken).ConfigureAwait(false);
        }
        catch (SumDbFetchException e)
        {
            return SumDbLookupResult.Failed($"{what}: checksum database {Name}: {e.Message}") with { TimedOut = e.TimedOut };
        }
    }

    /// <summary>Authenticates a lookup response body for module@version (as a proxy received it): the signed tree head
    /// against the key and the verified timeline, the record's inclusion proof, and the record's two hashes.</summary>
    public async Task<SumDbLookupResult> VerifyLookupBodyAsync(string modulePath, string version, byte[] body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        string what = $"{modulePath}@{version}";
        try
        {
            // 2. Parse and open the signed tree head.
            LookupResponse response;
            TreeHead tree;
            try
            {
                response = SumDbProtocol.ParseLookupResponse(body);
                tree = OpenVerified(response.SignedTree.Span);
            }
            catch (FormatException e)
            {
                return Invalid(what, $"malformed lookup response: {e.Message}");
            }
            catch (NoteException e)
            {
                return Invalid(what, $"verifying tree note: {e.Message}");
            }

            // 3. Check it against the stored head, moving that forward if the new one extends it.
            if (await MergeLatestAsync(tree, response.SignedTree.ToArray(), what, cancellationToken).ConfigureAwait(false) is { } failure)
            {
                return failure;
            }

            // 4. Authenticate the record against the (now trusted) tree.
            await WithTilesAsync(tiles => SumDbVerifier.CheckRecordAsync(tree, response.RecordId, response.RecordText, tiles, cancellationToken), cancellationToken)
                .ConfigureAwait(false);

            // 5. Extract the two hashes.
            return ParseRecord(modulePath, version, response.RecordTextString);
        }
        catch (SumDbFetchException e)
        {
            return SumDbLookupResult.Failed($"{what}: checksum database {Name}: {e.Message}") with { TimedOut = e.TimedOut };
        }
        catch (SumDbInvalidResponseException e)
        {
            return Invalid(what, e.Message);
        }
        catch (TlogException e)
        {
            return Invalid(what, e.Message);
        }
        catch (InvalidDataException e)
        {
            return Invalid(what, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return SumDbLookupResult.Failed($"{what}: checksum database {Name}: local state: {e.Message}");
        }
    }

    /// <summary>Checks a signed tree note (a database's "latest") against the key and the stored head, moving the
    /// stored head forward when the note extends it. Ok, Invalid (does not verify) or Fork.</summary>
    public async Task<SumDbLookupResult> CheckTreeNoteAsync(byte[] signedNote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signedNote);
        TreeHead tree;
        try
        {
            tree = OpenVerified(signedNote);
        }
        catch (Exception e) when (e is NoteException or FormatException)
        {
            return Invalid("latest", $"verifying tree note: {e.Message}");
        }

        try
        {
            return await MergeLatestAsync(tree, signedNote, "latest", cancellationToken).ConfigureAwait(false) ?? SumDbLookupResult.Ok("", "");
        }
        catch (SumDbFetchException e)
        {
            return SumDbLookupResult.Failed($"latest: checksum database {Name}: {e.Message}") with { TimedOut = e.TimedOut };
        }
        catch (Exception e) when (e is SumDbInvalidResponseException or TlogException or InvalidDataException)
        {
            return Invalid("latest", e.Message);
        }
    }

    /// <summary>The 502 body Warren sends when hashes from a source disagree with the checksum database, or null if
    /// they agree. A null hash from the source is not compared (it was not computed).</summary>
    /// <param name="modulePath">The module path.</param>
    /// <param name="version">The version (without "/go.mod").</param>
    /// <param name="source">Where the other hashes came from, e.g. "upstream https://proxy.golang.org".</param>
    /// <param name="databaseName">The checksum database's name.</param>
    /// <param name="zipHash">The source's zip h1, or null.</param>
    /// <param name="goModHash">The source's go.mod h1, or null.</param>
    /// <param name="databaseZipHash">The database's zip h1.</param>
    /// <param name="databaseGoModHash">The database's go.mod h1.</param>
    public static string? CompareHashes(string modulePath, string version, string source, string databaseName,
        string? zipHash, string? goModHash, string? databaseZipHash, string? databaseGoModHash)
    {
        if (zipHash is not null && !string.Equals(zipHash, databaseZipHash, StringComparison.Ordinal))
        {
            return $"checksum mismatch: {modulePath}@{version}: zip h1 from {source} is {zipHash}, checksum database {databaseName} has {databaseZipHash ?? "none"}";
        }

        if (goModHash is not null && !string.Equals(goModHash, databaseGoModHash, StringComparison.Ordinal))
        {
            return $"checksum mismatch: {modulePath}@{version}: go.mod h1 from {source} is {goModHash}, checksum database {databaseName} has {databaseGoModHash ?? "none"}";
        }

        return null;
    }

    /// <summary><see cref="CompareHashes(string, string, string, string, string?, string?, string?, string?)"/>
    /// against an Ok lookup result of this client's database.</summary>
    public string? CompareHashes(string modulePath, string version, string source, string? zipHash, string? goModHash, SumDbLookupResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!result.IsOk)
        {
            throw new ArgumentException("the lookup did not succeed", nameof(result));
        }

        return CompareHashes(modulePath, version, source, Name, zipHash, goModHash, result.ZipHash, result.GoModHash);
    }

    private SumDbLookupResult Invalid(string what, string message) =>
        SumDbLookupResult.Invalid($"{what}: checksum database {Name}: {message}");

    private SumDbLookupResult ParseRecord(string modulePath, string version, string text)
    {
        string what = $"{modulePath}@{version}";
        if (!GoSumRecord.TryFindHashes(text, modulePath, version, out var zip, out var mod, out var error))
        {
            return Invalid(what, error);
        }

        if (zip is null || mod is null)
        {
            return Invalid(what, $"record does not hold {(zip is null ? "the zip hash" : "the go.mod hash")} of {what}");
        }

        return SumDbLookupResult.Ok(zip, mod);
    }

    /// <summary>Checks tree against the stored head and stores it if it is newer (compare-and-swap: when another
    /// client moved the head meanwhile, the check is made again against the new one). Null on success.</summary>
    private async Task<SumDbLookupResult?> MergeLatestAsync(TreeHead tree, byte[] note, string what, CancellationToken cancellationToken)
    {
        await _latestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                // The cache is the source of truth (re-read each time, so clients sharing it see each other's heads).
                var storedNote = await _cache.GetTreeHeadAsync(StateName, cancellationToken).ConfigureAwait(false);
                if (storedNote is null)
                {
                    if (await _cache.TryAdvanceTreeHeadAsync(StateName, null, note, cancellationToken).ConfigureAwait(false))
                    {
                        return null;
                    }
                }
                else
                {
                    var stored = OpenStored(storedNote);
                    if (tree.Size == stored.Size)
                    {
                        return tree.Hash == stored.Hash
                            ? null
                            : Fork(what, $"two different signed tree heads of size {tree.Size}: stored {stored.Hash}, server sent {tree.Hash}", stored);
                    }

                    try
                    {
                        if (tree.Size < stored.Size)
                        {
                            await WithTilesAsync(tiles => SumDbVerifier.CheckTreesAsync(tree, stored, tiles, cancellationToken), cancellationToken).ConfigureAwait(false);
                            return null;
                        }

                        await WithTilesAsync(tiles => SumDbVerifier.CheckTreesAsync(stored, tree, tiles, cancellationToken), cancellationToken).ConfigureAwait(false);
                    }
                    catch (TreeForkException e)
                    {
                        return Fork(what, $"tree#{e.Older.Size} has hash {e.Older.Hash} but tree#{e.Newer.Size} ({e.Newer.Hash}) implies {e.NewerHashOfOlderSize}", stored);
                    }

                    if (await _cache.TryAdvanceTreeHeadAsync(StateName, storedNote, note, cancellationToken).ConfigureAwait(false))
                    {
                        return null;
                    }
                }

                if (attempt >= MaxHeadRaces)
                {
                    throw new IOException($"the stored tree head of {Name} kept changing while it was being advanced");
                }
            }
        }
        finally
        {
            _latestLock.Release();
        }
    }

    /// <summary>How often a lost compare-and-swap of the tree head is retried.</summary>
    private const int MaxHeadRaces = 8;

    private SumDbLookupResult Fork(string what, string evidence, TreeHead stored) =>
        SumDbLookupResult.Fork(
            $"SECURITY ERROR: checksum database {Name} misbehavior detected (looking up {what}): {evidence}; keeping verified tree#{stored.Size}");

    /// <summary>Runs a tile-based check. If it fails authentication and cached tiles were used, they are evicted and
    /// the check is run once more from the network: a damaged cache must not wedge the client.</summary>
    private async Task WithTilesAsync(Func<ITileReader, ValueTask> check, CancellationToken cancellationToken)
    {
        var tiles = new SumDbClientTiles(_http, _baseUrl, _cache, _tileHeight);
        try
        {
            await check(tiles).ConfigureAwait(false);
        }
        catch (TlogVerificationException e) when (e is not TreeForkException && tiles.FromCache.Count > 0)
        {
            await tiles.EvictAsync(tiles.FromCache, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            await check(new SumDbClientTiles(_http, _baseUrl, _cache, _tileHeight)).ConfigureAwait(false);
        }
    }

    private TreeHead OpenStored(byte[] note)
    {
        try
        {
            return OpenVerified(note);
        }
        catch (Exception e) when (e is NoteException or FormatException)
        {
            throw new InvalidDataException($"stored tree head {StateName} does not verify: {e.Message}", e);
        }
    }

    private static string StateNameOf(NoteVerifier verifier) =>
        DirectorySumDbCache.SafeName(verifier.Name) + "-" + verifier.KeyHash.ToString("x8", CultureInfo.InvariantCulture);
}

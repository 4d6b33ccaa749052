using System.Collections.Concurrent;
using System.Text;
using Warren.Core.SumDb;
using Warren.Tools.Prefetch;

namespace Warren.Tools.Bundle;

/// <summary>Hash tiles read through a getter (a checksum database over HTTP at export, a bundle's files at import),
/// remembering every tile path read and its bytes: exactly the tiles a go client needs to repeat the same checks. A
/// partial tile that is missing is read as the prefix of its full tile, as the go command does.</summary>
public sealed class RecordingTileReader(Func<string, CancellationToken, Task<byte[]?>> get, int height = SumDbProtocol.DefaultTileHeight) : ITileReader
{
    private readonly ConcurrentDictionary<string, byte[]> _read = new(StringComparer.Ordinal);

    public int Height => height;

    /// <summary>The tiles read so far, by path ("tile/8/0/000.p/12").</summary>
    public IReadOnlyDictionary<string, byte[]> Read => _read;

    public async ValueTask<IReadOnlyList<byte[]>> ReadTilesAsync(IReadOnlyList<Tile> tiles, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        var data = new byte[tiles.Count][];
        for (var i = 0; i < tiles.Count; i++)
        {
            data[i] = await ReadTileAsync(tiles[i], cancellationToken).ConfigureAwait(false);
        }

        return data;
    }

    private async Task<byte[]> ReadTileAsync(Tile tile, CancellationToken cancellationToken)
    {
        if (_read.TryGetValue(tile.Path, out var known))
        {
            return known;
        }

        var size = tile.Width * LogHash.Size;
        var body = await get(tile.Path, cancellationToken).ConfigureAwait(false);
        if (body is null && !tile.IsFull && await get(tile.Full.Path, cancellationToken).ConfigureAwait(false) is { } full
            && full.Length == (1 << tile.Height) * LogHash.Size)
        {
            _read[tile.Full.Path] = full;
            return full[..size];
        }

        if (body is null)
        {
            throw new TlogException($"{tile.Path}: missing");
        }

        if (body.Length != size)
        {
            throw new TlogVerificationException($"{tile.Path}: malformed tile ({body.Length} bytes, want {size})");
        }

        _read[tile.Path] = body;
        return body;
    }
}

/// <summary>A lookup proven against a signed tree head: its record and the hashes it holds for the version.</summary>
public sealed record ProvenLookup(ModuleKey Key, long RecordId, byte[] RecordText, string ZipHash, string GoModHash);

/// <summary>The checks a go client makes of checksum database data, made once for a whole bundle: the signed tree head
/// against the verifier key, each lookup's own head against the key and (consistency proof) against the head, and each
/// record's inclusion in the head, all from tiles.</summary>
public static class BundleChecksums
{
    /// <summary>Opens a signed tree head with the key.</summary>
    /// <exception cref="InvalidDataException">It does not verify.</exception>
    public static TreeHead OpenHead(byte[] signedNote, NoteVerifier key, string what)
    {
        ArgumentNullException.ThrowIfNull(signedNote);
        try
        {
            return TreeHead.OpenSigned(signedNote, new NoteVerifierList(key));
        }
        catch (Exception e) when (e is NoteException or FormatException)
        {
            throw new InvalidDataException($"{what}: the signed tree head does not verify with {key.Name}'s key: {e.Message}", e);
        }
    }

    /// <summary>Proves a lookup body for key against head (whose signed note is headNote).</summary>
    /// <exception cref="InvalidDataException">The body is malformed, its head or record does not verify, or its record
    /// does not hold both hashes of the version.</exception>
    public static async Task<ProvenLookup> ProveAsync(ModuleKey key, byte[] body, NoteVerifier verifier, TreeHead head, ITileReader tiles, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        LookupResponse response;
        try
        {
            response = SumDbProtocol.ParseLookupResponse(body);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"lookup {key}: malformed: {e.Message}", e);
        }

        var own = OpenHead(response.SignedTree.ToArray(), verifier, "lookup " + key);
        try
        {
            if (own.Size > head.Size)
            {
                throw new InvalidDataException($"lookup {key}: its tree#{own.Size} is newer than the head tree#{head.Size}");
            }

            if (own != head)
            {
                await SumDbVerifier.CheckTreesAsync(own, head, tiles, cancellationToken).ConfigureAwait(false);
            }

            await SumDbVerifier.CheckRecordAsync(head, response.RecordId, response.RecordText, tiles, cancellationToken).ConfigureAwait(false);
        }
        catch (TlogException e)
        {
            throw new InvalidDataException($"lookup {key}: {e.Message}", e);
        }

        var text = response.RecordTextString;
        if (!GoSumRecord.TryFindHashes(text, key.Path, key.Version, out var zip, out var mod, out var error))
        {
            throw new InvalidDataException($"lookup {key}: {error}");
        }

        return zip is null || mod is null
            ? throw new InvalidDataException($"lookup {key}: the record does not hold the {(zip is null ? "zip" : "go.mod")} hash of {key}")
            : new ProvenLookup(key, response.RecordId, response.RecordText.ToArray(), zip, mod);
    }

    /// <summary>The lookup body of a proven record under the given signed head.</summary>
    public static byte[] Format(ProvenLookup lookup, byte[] headNote)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        return SumDbProtocol.FormatLookupResponse(lookup.RecordId, lookup.RecordText, headNote);
    }

    /// <summary>The tree size a lookup body's head states (unverified), or -1.</summary>
    public static long HeadSizeOf(byte[] body)
    {
        try
        {
            var response = SumDbProtocol.ParseLookupResponse(body);
            var text = Encoding.UTF8.GetString(response.SignedTree.Span);
            var end = text.IndexOf("\n\n", StringComparison.Ordinal);
            return TreeHead.TryParse(end < 0 ? text : text[..(end + 1)], out var tree) ? tree.Size : -1;
        }
        catch (FormatException)
        {
            return -1;
        }
    }
}

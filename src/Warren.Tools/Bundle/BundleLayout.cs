using System.Collections.Concurrent;
using System.Security.Cryptography;
using Warren.Core.SumDb;

namespace Warren.Tools.Bundle;

/// <summary>Files of a bundle directory: atomic writes, and the list of files with their hashes.</summary>
public static class BundleLayout
{
    /// <summary>Writes a whole file under a temporary name beside it, then renames it into place.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> data)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + RandomNumberGenerator.GetInt32(1, int.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp";
        try
        {
            File.WriteAllBytes(temp, data.ToArray());
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The bundle's files but the manifest, its signature and leftovers of interrupted writes (*.tmp), with
    /// paths relative to the bundle, sorted.</summary>
    public static IEnumerable<string> ContentFiles(string bundle)
    {
        var root = Path.GetFullPath(bundle);
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => f is not (BundleManifest.FileName or BundleManifest.SignatureName) && !f.EndsWith(".tmp", StringComparison.Ordinal) && !f.EndsWith(".partial", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
    }

    /// <summary>Every content file with its SHA-256 and size; a file in written (by full path) with the size it has on
    /// disk is taken with the hash recorded when it was written, the others are read and hashed.</summary>
    public static async Task<IReadOnlyList<BundleFile>> HashFilesAsync(string bundle, int jobs,
        IReadOnlyDictionary<string, (string Sha256, long Size)> written, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(written);
        var files = new ConcurrentBag<BundleFile>();
        var root = Path.GetFullPath(bundle);
        await Parallel.ForEachAsync(ContentFiles(root), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs), CancellationToken = cancellationToken }, async (relative, ct) =>
        {
            var full = Path.Combine(root, relative);
            var size = new FileInfo(full).Length;
            var sha256 = written.TryGetValue(full, out var known) && known.Size == size
                ? known.Sha256
                : await BundleManifest.Sha256Async(full, ct).ConfigureAwait(false);
            files.Add(new BundleFile(relative, sha256, size));
        }).ConfigureAwait(false);
        return [.. files.OrderBy(f => f.Path, StringComparer.Ordinal)];
    }
}

/// <summary>The signature of a bundle manifest: a signed note "warren bundle\nsha256 HEX\n" over warren-bundle.json,
/// made with a note signer key (`warren sumdb keygen`), checked with its verifier key.</summary>
public static class BundleSignature
{
    private const string Header = "warren bundle\n";

    public static byte[] Sign(ReadOnlySpan<byte> manifest, NoteSigner signer) =>
        Note.Sign(new Note(Text(manifest)), signer);

    /// <summary>Null when signature is a note signed by the verifier's key over exactly this manifest; else the problem.</summary>
    public static string? Check(ReadOnlySpan<byte> manifest, byte[]? signature, NoteVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        if (signature is null)
        {
            return $"{BundleManifest.SignatureName}: missing, but --trust {verifier.Name} requires a signed bundle";
        }

        Note note;
        try
        {
            note = Note.Open(signature, new NoteVerifierList(verifier));
        }
        catch (Exception e) when (e is NoteException or FormatException)
        {
            return $"{BundleManifest.SignatureName}: not signed by {verifier.Name}: {e.Message}";
        }

        return note.Text == Text(manifest) ? null : $"{BundleManifest.FileName}: does not match its signature (the manifest was changed after signing)";
    }

    private static string Text(ReadOnlySpan<byte> manifest) => Header + "sha256 " + Convert.ToHexStringLower(SHA256.HashData(manifest)) + "\n";
}

namespace Warren.Core.Modules;

/// <summary>The h1: hash of golang.org/x/mod/sumdb/dirhash, as written to go.sum.</summary>
public static class DirHash
{
    /// <summary>dirhash.HashZip with Hash1 over every entry of the zip at zipPath (streamed, never buffered whole).</summary>
    public static string HashZip(string zipPath, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>The go.sum "/go.mod" hash: Hash1 over a single file named "go.mod" with this content.</summary>
    public static string HashGoMod(ReadOnlySpan<byte> goMod) => throw new NotImplementedException();
}

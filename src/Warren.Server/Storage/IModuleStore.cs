namespace Warren.Server.Storage;

public enum ArtifactKind
{
    Info,
    Mod,
    Zip,

    /// <summary>The zip's h1 hash, as the go command keeps it beside a downloaded zip.</summary>
    ZipHash,
}

/// <summary>A stored, complete and checked artifact.</summary>
/// <param name="PhysicalPath">A local file that can be sent as it is (sendfile), when the store has one.</param>
public sealed record StoredArtifact(string? PhysicalPath, long Length, DateTimeOffset LastModified, string ETag, Func<Stream> OpenRead);

/// <summary>Where modules live. Artifacts become visible only complete (commit is atomic) and are never rewritten.</summary>
public interface IModuleStore
{
    /// <summary>A fresh local path for staging a download; the same file system as the store where possible.</summary>
    string NewStagingFile();

    ValueTask<StoredArtifact?> GetAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken);

    /// <summary>Makes the staged file the artifact, atomically. Returns false when it already existed (the staged file is then discarded).</summary>
    ValueTask<bool> CommitAsync(string stagedFile, string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken);

    /// <summary>Canonical versions the store holds any artifact of.</summary>
    ValueTask<IReadOnlyList<string>> ListVersionsAsync(string modulePath, CancellationToken cancellationToken);

    /// <summary>Other immutable content (checksum database tiles and lookups) under a validated relative path.</summary>
    ValueTask<StoredArtifact?> GetBlobAsync(string relativePath, CancellationToken cancellationToken);

    ValueTask<bool> CommitBlobAsync(string stagedFile, string relativePath, CancellationToken cancellationToken);

    /// <summary>Removes a blob (content that later failed verification). False when there was none.</summary>
    ValueTask<bool> DeleteBlobAsync(string relativePath, CancellationToken cancellationToken);

    /// <summary>Removes what an interrupted run left in staging. Returns how many files went.</summary>
    int CleanStaging();

    /// <summary>Readiness probe: can the store be written to now?</summary>
    bool IsWritable(out string? reason);
}

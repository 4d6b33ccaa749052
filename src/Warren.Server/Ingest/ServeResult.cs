namespace Warren.Server.Ingest;

/// <summary>What a handler sends back: an artifact, a computed body, or an <see cref="Outcome"/> that says why not.</summary>
public abstract record ServeResult;

/// <summary>A stored artifact; immutable ones are sent with long-lived cache headers.</summary>
public sealed record ArtifactAnswer(StoredObject Artifact) : ServeResult;

/// <summary>A stored zip whose file is held open.</summary>
public sealed record OpenArtifactAnswer(Endpoints.OpenArtifact File) : ServeResult;

/// <summary>A zip being fetched, sent while it arrives: its stage, a read handle on its staged file, and the ingest
/// that says whether it was verified and stored (null) or why not.</summary>
public sealed record LiveZip(LiveStage Stage, Microsoft.Win32.SafeHandles.SafeFileHandle Reader, Task<Outcome?> Ingest);

/// <summary>A zip sent while it is fetched and verified (see <see cref="WarrenOptions.StreamFetchedZips"/>).</summary>
public sealed record LiveZipAnswer(LiveZip Zip) : ServeResult;

/// <summary>A small immutable artifact served from memory.</summary>
public sealed record MemoryArtifactAnswer(CachedArtifact Artifact) : ServeResult;

/// <summary>A small computed body (list, @latest, a version query).</summary>
public sealed record ContentAnswer(byte[] Body, string ContentType, TimeSpan MaxAge) : ServeResult;

/// <summary>The h1 hashes of a stored version, or why there are none.</summary>
public sealed record StoredHashes(string? ZipHash, string? GoModHash, Outcome? Error);

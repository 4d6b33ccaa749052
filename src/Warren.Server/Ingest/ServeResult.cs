namespace Warren.Server.Ingest;

/// <summary>What a handler sends back: an artifact, a computed body, or an <see cref="Outcome"/> that says why not.</summary>
public abstract record ServeResult;

/// <summary>A stored artifact; immutable ones are sent with long-lived cache headers.</summary>
public sealed record ArtifactAnswer(StoredObject Artifact) : ServeResult;

/// <summary>A stored zip whose file is held open.</summary>
public sealed record OpenArtifactAnswer(Endpoints.OpenArtifact File) : ServeResult;

/// <summary>A small immutable artifact served from memory.</summary>
public sealed record MemoryArtifactAnswer(CachedArtifact Artifact) : ServeResult;

/// <summary>A small computed body (list, @latest, a version query).</summary>
public sealed record ContentAnswer(byte[] Body, string ContentType, TimeSpan MaxAge) : ServeResult;

/// <summary>The h1 hashes of a stored version, or why there are none.</summary>
public sealed record StoredHashes(string? ZipHash, string? GoModHash, Outcome? Error);

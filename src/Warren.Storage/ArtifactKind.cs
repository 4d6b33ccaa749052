namespace Warren.Storage;

/// <summary>The files of one module version in the GOPROXY layout.</summary>
public enum ArtifactKind
{
    Info,
    Mod,
    Zip,

    /// <summary>The zip's h1 hash, as the go command keeps it beside a downloaded zip.</summary>
    ZipHash,
}

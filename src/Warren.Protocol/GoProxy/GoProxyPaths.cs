using System.Diagnostics.CodeAnalysis;
using Warren.Core.Modules;

namespace Warren.Protocol.GoProxy;

/// <summary>The relative paths of the GOPROXY protocol, which are also those of the go command's download cache
/// (GOMODCACHE/cache/download) and of Warren's store: ESCAPED-PATH/@v/list, ESCAPED-PATH/@latest and
/// ESCAPED-PATH/@v/ESCAPED-VERSION{.info,.mod,.zip,.ziphash}, escaped as module.EscapePath/EscapeVersion do.</summary>
public static class GoProxyPaths
{
    /// <summary>The largest go.mod accepted (the go command's limit).</summary>
    public const long MaxGoMod = ModuleZip.MaxGoMod;

    /// <summary>The largest .info, list or @latest answer accepted.</summary>
    public const long MaxMetadata = 16L << 20;

    /// <summary>The largest zip accepted (the go command's limit).</summary>
    public const long MaxZip = ModuleZip.MaxZipFile;

    /// <summary>"ESCAPED-PATH/@v/ESCAPED-VERSION" + suffix; false with the reason when the path or version cannot be escaped.</summary>
    public static bool TryVersionFile(string modulePath, string version, string suffix, [NotNullWhen(true)] out string? relative, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        relative = null;
        if (!ModulePath.TryEscapePath(modulePath, out var path, out var pathError))
        {
            error = "invalid module path: " + pathError;
            return false;
        }

        if (!ModulePath.TryEscapeVersion(version, out var escaped, out var versionError))
        {
            error = versionError ?? $"invalid version {version}";
            return false;
        }

        relative = path + "/@v/" + escaped + suffix;
        error = null;
        return true;
    }

    /// <summary>"ESCAPED-PATH/@v/ESCAPED-VERSION" + suffix (".info", ".mod", ".zip", ".ziphash").</summary>
    /// <exception cref="ArgumentException">The path or version cannot be escaped.</exception>
    public static string VersionFile(string modulePath, string version, string suffix) =>
        TryVersionFile(modulePath, version, suffix, out var relative, out var error) ? relative : throw new ArgumentException(error);

    /// <summary>"ESCAPED-PATH/@v/list".</summary>
    /// <exception cref="ArgumentException">The path cannot be escaped.</exception>
    public static string List(string modulePath) => EscapedPath(modulePath) + "/@v/list";

    /// <summary>"ESCAPED-PATH/@latest".</summary>
    /// <exception cref="ArgumentException">The path cannot be escaped.</exception>
    public static string Latest(string modulePath) => EscapedPath(modulePath) + "/@latest";

    /// <summary>The escaped module path.</summary>
    /// <exception cref="ArgumentException">The path cannot be escaped.</exception>
    public static string EscapedPath(string modulePath) =>
        ModulePath.TryEscapePath(modulePath, out var escaped, out var error) ? escaped : throw new ArgumentException("invalid module path: " + error);
}

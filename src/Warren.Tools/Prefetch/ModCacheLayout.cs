using System.Security.Cryptography;
using Warren.Core.Modules;

namespace Warren.Tools.Prefetch;

/// <summary>The go command's download cache inside a GOMODCACHE: DIR/cache/download/ESCAPED-PATH/@v/ESCAPED-VERSION.{info,mod,zip,ziphash}.</summary>
public sealed class ModCacheLayout
{
    private readonly string _root;

    public ModCacheLayout(string modCache)
    {
        ArgumentException.ThrowIfNullOrEmpty(modCache);
        _root = Path.Combine(Path.GetFullPath(modCache), "cache", "download");
    }

    /// <summary>Where a file of a module version lives (suffix ".info", ".mod", ".zip" or ".ziphash").</summary>
    /// <exception cref="ProxyFetchException">The path or version cannot be escaped.</exception>
    public string PathOf(ModuleKey module, string suffix)
    {
        if (!ModulePath.TryEscapePath(module.Path, out var path, out var pathError))
        {
            throw new ProxyFetchException("invalid module path: " + pathError);
        }

        if (!ModulePath.TryEscapeVersion(module.Version, out var version, out var versionError))
        {
            throw new ProxyFetchException(versionError ?? "invalid version");
        }

        return Path.Combine(_root, Path.Combine(path.Split('/')), "@v", version + suffix);
    }

    /// <summary>True when the zip and its .ziphash are both present (and the hash is the expected one, when known).</summary>
    public bool HasZip(ModuleKey module, string? expectedHash)
    {
        var hashFile = PathOf(module, ".ziphash");
        if (!File.Exists(PathOf(module, ".zip")) || !File.Exists(hashFile))
        {
            return false;
        }

        return expectedHash is null || File.ReadAllText(hashFile).Trim() == expectedHash;
    }

    /// <summary>Writes a whole file under a temporary name in its directory, then renames it into place.</summary>
    public async Task WriteAtomicallyAsync(ModuleKey module, string suffix, byte[] content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var target = PathOf(module, suffix);
        var temp = TempName(target);
        try
        {
            await File.WriteAllBytesAsync(temp, content, cancellationToken).ConfigureAwait(false);
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>A fresh temporary name beside target (whose directory is created), named as the go command names its
    /// own (target + random digits + ".tmp"), so that `go clean` and `warren verify` recognise a leftover.</summary>
    public static string TempName(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return target + RandomNumberGenerator.GetInt32(1, int.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp";
    }
}

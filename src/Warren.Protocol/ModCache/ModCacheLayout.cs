using System.Security.Cryptography;
using Warren.Protocol.GoProxy;

namespace Warren.Protocol.ModCache;

/// <summary>The go command's module cache (GOMODCACHE): the download cache DIR/cache/download/ESCAPED-PATH/@v/
/// ESCAPED-VERSION.{info,mod,zip,ziphash} (the GOPROXY layout, <see cref="GoProxyPaths"/>), the checksum database cache
/// DIR/cache/download/sumdb, and the extracted trees DIR/ESCAPED-PATH@ESCAPED-VERSION.</summary>
public sealed class ModCacheLayout
{
    /// <summary>The suffixes the go command writes for a version in the download cache.</summary>
    public static readonly IReadOnlyList<string> Suffixes = ["ziphash", "zip", "mod", "info", "lock", "partial"];

    public ModCacheLayout(string modCache)
    {
        ArgumentException.ThrowIfNullOrEmpty(modCache);
        Root = Path.GetFullPath(modCache);
        DownloadRoot = DownloadDirectory(Root);
    }

    private ModCacheLayout(string root, string downloadRoot) => (Root, DownloadRoot) = (root, downloadRoot);

    /// <summary>A directory in the GOPROXY layout itself (what DIR/cache/download is to a module cache): a bundle that
    /// GOPROXY=file://DIR serves.</summary>
    public static ModCacheLayout ForDownloadRoot(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var full = Path.GetFullPath(directory);
        return new ModCacheLayout(full, full);
    }

    /// <summary>The module cache.</summary>
    public string Root { get; }

    /// <summary>DIR/cache/download.</summary>
    public string DownloadRoot { get; }

    /// <summary>DIR/cache/download of a module cache.</summary>
    public static string DownloadDirectory(string modCache) => Path.Combine(modCache, "cache", "download");

    /// <summary>Where a file of a module version lives (suffix ".info", ".mod", ".zip" or ".ziphash").</summary>
    /// <exception cref="ArgumentException">The path or version cannot be escaped.</exception>
    public string PathOf(string modulePath, string version, string suffix) =>
        Path.Combine(DownloadRoot, GoProxyPaths.VersionFile(modulePath, version, suffix).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>True when the zip and its .ziphash are both present (and the hash is the expected one, when known).</summary>
    public bool HasZip(string modulePath, string version, string? expectedHash)
    {
        var hashFile = PathOf(modulePath, version, ".ziphash");
        if (!File.Exists(PathOf(modulePath, version, ".zip")) || !File.Exists(hashFile))
        {
            return false;
        }

        return expectedHash is null || File.ReadAllText(hashFile).Trim() == expectedHash;
    }

    /// <summary>Writes a whole file under a temporary name in its directory, then renames it into place.</summary>
    public async Task WriteAtomicallyAsync(string modulePath, string version, string suffix, byte[] content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var target = PathOf(modulePath, version, suffix);
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

using Warren.Core.Modules;
using Warren.Protocol.ModCache;

namespace Warren.Tools.Verify;

/// <summary>What the module cache holds for one module version: the download cache files
/// (cache/download/&lt;escaped path&gt;/@v/&lt;escaped version&gt;.*) and the extracted directory
/// (&lt;escaped path&gt;@&lt;escaped version&gt;), plus the leftovers of interrupted writes.</summary>
internal sealed class CachedVersion
{
    public CachedVersion(string path, string version)
    {
        Path = path;
        Version = version;
    }

    public string Path { get; }

    public string Version { get; }

    /// <summary>module@version.</summary>
    public string Key => $"{Path}@{Version}";

    /// <summary>The @v directory and the escaped version, when the download cache has anything of this version.</summary>
    public string? DownloadDir { get; set; }

    public string? EscapedVersion { get; set; }

    /// <summary>The extracted directory, when it exists.</summary>
    public string? ExtractedDir { get; set; }

    /// <summary>File names (without directory) present in the @v directory for this version, e.g. "v1.0.0.zip".</summary>
    public HashSet<string> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Temporary files in the @v directory left by interrupted writes (&lt;ver&gt;.zip123.tmp …).</summary>
    public List<string> TempFiles { get; } = [];

    /// <summary>Temporary extraction directories left by old go versions (&lt;dir&gt;.tmp-123).</summary>
    public List<string> TempDirs { get; } = [];

    public string? CacheFile(string suffix) =>
        DownloadDir is null || EscapedVersion is null ? null : System.IO.Path.Combine(DownloadDir, EscapedVersion + "." + suffix);

    public bool Has(string suffix) => EscapedVersion is not null && Files.Contains(EscapedVersion + "." + suffix);
}

/// <summary>Something in the module cache that could not be attributed to a module version.</summary>
internal sealed record StrayEntry(string FullPath, string Reason);

/// <summary>Walks a module cache (GOMODCACHE, laid out as <see cref="ModCacheLayout"/> says) and groups what it
/// finds by module version.</summary>
internal static class ModCacheScanner
{
    private static IReadOnlyList<string> Suffixes => ModCacheLayout.Suffixes;

    public static (List<CachedVersion> Versions, List<StrayEntry> Strays) Scan(string modCache, CancellationToken cancellationToken)
    {
        var versions = new Dictionary<string, CachedVersion>(StringComparer.Ordinal);
        var strays = new List<StrayEntry>();

        CachedVersion Get(string path, string version)
        {
            var key = path + "@" + version;
            if (!versions.TryGetValue(key, out var v))
            {
                versions[key] = v = new CachedVersion(path, version);
            }

            return v;
        }

        var download = ModCacheLayout.DownloadDirectory(modCache);
        if (Directory.Exists(download))
        {
            ScanDownload(download, download, Get, strays, cancellationToken);
        }

        foreach (var top in SafeDirectories(modCache))
        {
            if (Path.GetFileName(top) == "cache")
            {
                continue;
            }

            ScanExtracted(modCache, top, Get, strays, cancellationToken);
        }

        var list = versions.Values.ToList();
        list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return (list, strays);
    }

    private static void ScanDownload(string root, string dir, Func<string, string, CachedVersion> get, List<StrayEntry> strays,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var sub in SafeDirectories(dir))
        {
            var name = Path.GetFileName(sub);
            if (dir == root && name == "sumdb")
            {
                continue;
            }

            if (name == "@v")
            {
                var escapedPath = Path.GetRelativePath(root, dir).Replace('\\', '/');
                if (!ModulePath.TryUnescapePath(escapedPath, out var modulePath, out _))
                {
                    continue;
                }

                ScanVersionDir(sub, modulePath, get, strays);
            }
            else if (name != "@latest")
            {
                ScanDownload(root, sub, get, strays, cancellationToken);
            }
        }
    }

    private static void ScanVersionDir(string dir, string modulePath, Func<string, string, CachedVersion> get, List<StrayEntry> strays)
    {
        foreach (var file in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(file);
            if (name is "list" or "list.lock")
            {
                continue;
            }

            if (name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                // tempFile: <escaped version>.<suffix><random digits>.tmp
                var stem = name[..^4].TrimEnd("0123456789".ToCharArray());
                var suffix = Suffixes.Select(s => "." + s).FirstOrDefault(s => stem.EndsWith(s, StringComparison.Ordinal));
                if (suffix is not null && TryVersion(stem[..^suffix.Length], out var v))
                {
                    var owner = get(modulePath, v);
                    owner.DownloadDir = dir;
                    owner.EscapedVersion = stem[..^suffix.Length];
                    owner.TempFiles.Add(file);
                }
                else
                {
                    strays.Add(new StrayEntry(file, "temporary file left by an interrupted write"));
                }

                continue;
            }

            foreach (var suffix in Suffixes)
            {
                if (name.EndsWith("." + suffix, StringComparison.Ordinal) && TryVersion(name[..^(suffix.Length + 1)], out var version))
                {
                    var cached = get(modulePath, version);
                    cached.DownloadDir = dir;
                    cached.EscapedVersion = name[..^(suffix.Length + 1)];
                    cached.Files.Add(name);
                    break;
                }
            }
        }
    }

    private static bool TryVersion(string escaped, out string version) =>
        ModulePath.TryUnescapeVersion(escaped, out version, out _) && version.StartsWith('v');

    private static void ScanExtracted(string modCache, string dir, Func<string, string, CachedVersion> get, List<StrayEntry> strays,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = Path.GetFileName(dir);
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
        {
            foreach (var sub in SafeDirectories(dir))
            {
                ScanExtracted(modCache, sub, get, strays, cancellationToken);
            }

            return;
        }

        var relative = Path.GetRelativePath(modCache, dir).Replace('\\', '/');
        var split = relative.LastIndexOf('@');
        var escapedPath = relative[..split];
        var escapedVersion = relative[(split + 1)..];
        var tmp = escapedVersion.IndexOf(".tmp-", StringComparison.Ordinal);
        var isTemp = tmp >= 0;
        if (isTemp)
        {
            escapedVersion = escapedVersion[..tmp];
        }

        if (!ModulePath.TryUnescapePath(escapedPath, out var modulePath, out _) || !TryVersion(escapedVersion, out var version))
        {
            strays.Add(new StrayEntry(dir, "directory that is no module version of the go command's layout"));
            return;
        }

        var cached = get(modulePath, version);
        if (isTemp)
        {
            cached.TempDirs.Add(dir);
        }
        else
        {
            cached.ExtractedDir = dir;
        }
    }

    /// <summary>Subdirectories that are real directories (symbolic links are not followed).</summary>
    private static IEnumerable<string> SafeDirectories(string dir)
    {
        var info = new DirectoryInfo(dir);
        var children = info.GetDirectories();
        Array.Sort(children, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var child in children)
        {
            if (child.LinkTarget is null)
            {
                yield return child.FullName;
            }
        }
    }
}

using System.Globalization;
using Microsoft.Extensions.Options;
using Warren.Core.Modules;
using Warren.Server.Configuration;

namespace Warren.Server.Storage;

/// <summary>The embedded default store: the layout of GOMODCACHE/cache/download, so a store can be served with
/// GOPROXY=file://… and a developer's module cache can seed one.</summary>
public sealed class FileSystemModuleStore : IModuleStore, IDisposable
{
    private readonly string _root;
    private readonly string _staging;
    private readonly bool _fsync;
    private readonly string _stagingParent;
    private readonly FileStream _stagingLock;
    // Striped, so the set of locks stays fixed however many modules pass through.
    private readonly SemaphoreSlim[] _listLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public FileSystemModuleStore(IOptions<WarrenOptions> options, StoreLock storeLock)
    {
        // The lock is taken (by resolving it) before anything in the store is touched.
        _root = storeLock.Root;
        _fsync = options.Value.Fsync;

        // Each process stages in a directory of its own, locked while it lives, so that a restarted server can tell a
        // dead process's leftovers from a live one's downloads (one server per store: see StoreLock).
        _stagingParent = Path.Combine(_root, ".warren", "staging");
        _staging = Path.Combine(_stagingParent, Guid.NewGuid().ToString("N"));
        StoreFiles.CreateDirectory(_staging);
        _stagingLock = new FileStream(Path.Combine(_staging, LockName), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        StoreFiles.MakePrivate(Path.Combine(_staging, LockName));
    }

    private const string LockName = ".lock";

    public string Root => _root;

    public void Dispose() => _stagingLock.Dispose();

    public string NewStagingFile() => Path.Combine(_staging, Guid.NewGuid().ToString("N") + ".partial");

    /// <summary>The artifact's path in the store; the inputs must be valid (the caller checked them).</summary>
    public string ArtifactPath(string modulePath, string version, ArtifactKind kind)
    {
        var ext = kind switch
        {
            ArtifactKind.Info => ".info",
            ArtifactKind.Mod => ".mod",
            ArtifactKind.Zip => ".zip",
            _ => ".ziphash",
        };

        // The go command's download-cache layout, which is the GOPROXY layout.
        return Warren.Protocol.GoProxy.GoProxyPaths.TryVersionFile(modulePath, version, ext, out var relative, out var error)
            ? Path.Combine(_root, relative)
            : throw new ArgumentException($"invalid module version {modulePath}@{version}: {error}");
    }

    public ValueTask<StoredArtifact?> GetAsync(string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken)
    {
        using var activity = Warren.Core.Diagnostics.WarrenActivity.Source.StartActivity(Warren.Core.Diagnostics.WarrenActivity.StoreGet);
        return ValueTask.FromResult(Describe(ArtifactPath(modulePath, version, kind)));
    }

    public async ValueTask<bool> CommitAsync(string stagedFile, string modulePath, string version, ArtifactKind kind, CancellationToken cancellationToken)
    {
        using var activity = Warren.Core.Diagnostics.WarrenActivity.Source.StartActivity(Warren.Core.Diagnostics.WarrenActivity.StoreCommit);
        activity?.SetTag("warren.module", modulePath).SetTag("warren.version", version).SetTag("warren.kind", kind.ToString());
        var target = ArtifactPath(modulePath, version, kind);
        var created = Publish(stagedFile, target);
        if (created && kind is ArtifactKind.Info or ArtifactKind.Mod)
        {
            await RewriteListFileAsync(modulePath, cancellationToken).ConfigureAwait(false);
        }

        return created;
    }

    public ValueTask<IReadOnlyList<string>> ListVersionsAsync(string modulePath, CancellationToken cancellationToken) =>
        ValueTask.FromResult(HeldVersions(modulePath));

    public ValueTask<StoredArtifact?> GetBlobAsync(string relativePath, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Describe(BlobPath(relativePath)));

    public ValueTask<bool> CommitBlobAsync(string stagedFile, string relativePath, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Publish(stagedFile, BlobPath(relativePath)));

    public ValueTask<bool> DeleteBlobAsync(string relativePath, CancellationToken cancellationToken)
    {
        var path = BlobPath(relativePath);
        var existed = File.Exists(path);
        File.Delete(path);
        return ValueTask.FromResult(existed);
    }

    public int CleanStaging()
    {
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories(_stagingParent))
        {
            if (string.Equals(dir, _staging, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                // Opening the lock exclusively succeeds only when its owner is gone.
                using (new FileStream(Path.Combine(dir, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
                {
                    count += Directory.EnumerateFiles(dir).Count() - 1;
                }

                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Alive (locked) or already gone.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return count;
    }

    public bool IsWritable(out string? reason)
    {
        var probe = NewStagingFile();
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            reason = null;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            reason = $"store {_root} is not writable: {ex.Message}";
            return false;
        }
    }

    private string BlobPath(string relativePath)
    {
        // Callers validate; this is the last guard against escaping the store.
        if (relativePath.Length == 0 || relativePath.Contains("..", StringComparison.Ordinal) || relativePath.Contains('\\') ||
            relativePath.StartsWith('/') || relativePath.Contains('\0'))
        {
            throw new ArgumentException($"invalid store path {relativePath}");
        }

        var full = Path.GetFullPath(Path.Combine(_root, relativePath));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"invalid store path {relativePath}");
        }

        return full;
    }

    private static StoredArtifact? Describe(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        var modified = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
        var etag = "\"" + info.Length.ToString("x", CultureInfo.InvariantCulture) + "-" + modified.ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture) + "\"";
        return new StoredArtifact(path, info.Length, modified, etag,
            () => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan));
    }

    /// <summary>Make the staged file 0600 and fsync it, then rename it into place without replacing anything already
    /// there, and fsync the directory so the rename survives a power loss too.</summary>
    private bool Publish(string stagedFile, string target)
    {
        if (File.Exists(target))
        {
            File.Delete(stagedFile);
            return false;
        }

        StoreFiles.MakePrivate(stagedFile);
        if (_fsync)
        {
            using var fs = new FileStream(stagedFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            fs.Flush(flushToDisk: true);
        }

        var directory = Path.GetDirectoryName(target)!;
        var created = CreateDirectories(directory);
        try
        {
            File.Move(stagedFile, target, overwrite: false);
            SyncAfterRename(directory, created);
            return true;
        }
        catch (IOException) when (File.Exists(target))
        {
            // Another writer won the race with the same checked content.
            File.Delete(stagedFile);
            return false;
        }
    }

    /// <summary>Creates directory and its missing parents (0700); returns the topmost one it created, or null.</summary>
    private string? CreateDirectories(string directory)
    {
        string? topmost = null;
        for (var d = directory; d.Length > _root.Length && !Directory.Exists(d); d = Path.GetDirectoryName(d)!)
        {
            topmost = d;
        }

        if (topmost is not null)
        {
            StoreFiles.CreateDirectory(directory);
        }

        return topmost;
    }

    /// <summary>When fsync is on: the directory the file was renamed into, and the parents of the directories just created.</summary>
    private void SyncAfterRename(string directory, string? createdTopmost)
    {
        if (!_fsync)
        {
            return;
        }

        StoreFiles.SyncDirectory(directory);
        if (createdTopmost is not null)
        {
            for (var d = Path.GetDirectoryName(directory)!; ; d = Path.GetDirectoryName(d)!)
            {
                StoreFiles.SyncDirectory(d);
                if (string.Equals(d, Path.GetDirectoryName(createdTopmost), StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
    }

    private IReadOnlyList<string> HeldVersions(string modulePath)
    {
        if (!ModulePath.TryEscapePath(modulePath, out var escPath, out _))
        {
            return [];
        }

        var dir = Path.Combine(_root, escPath, "@v");
        if (!Directory.Exists(dir))
        {
            return [];
        }

        var versions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(file);
            var dot = name.LastIndexOf('.');
            if (dot <= 0 || name.AsSpan(dot) is not (".info" or ".mod" or ".zip"))
            {
                continue;
            }

            if (ModulePath.TryUnescapeVersion(name[..dot], out var version, out _) && SemVer.Canonical(version) == version)
            {
                versions.Add(version);
            }
        }

        var list = versions.ToList();
        list.Sort(SemVer.Compare);
        return list;
    }

    /// <summary>Keeps @v/list equal to the held release versions, as the go command's cache does, so file:// serving works.</summary>
    private async Task RewriteListFileAsync(string modulePath, CancellationToken cancellationToken)
    {
        var gate = _listLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(modulePath) % (uint)_listLocks.Length)];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var releases = HeldVersions(modulePath).Where(v => !PseudoVersion.IsPseudoVersion(v));
            var staged = NewStagingFile();
            await File.WriteAllTextAsync(staged, string.Concat(releases.Select(v => v + "\n")), cancellationToken).ConfigureAwait(false);
            ModulePath.TryEscapePath(modulePath, out var escPath, out _);
            StoreFiles.MakePrivate(staged);
            var directory = Path.Combine(_root, escPath, "@v");
            File.Move(staged, Path.Combine(directory, "list"), overwrite: true);
            SyncAfterRename(directory, null);
        }
        finally
        {
            gate.Release();
        }
    }
}

using System.Globalization;
using System.Runtime.CompilerServices;
using Warren.Core.Diagnostics;
using Warren.Core.Modules;

namespace Warren.Storage.FileSystem;

/// <summary>The artifact store on a local disk, in the layout of GOMODCACHE/cache/download (the GOPROXY layout), so a
/// store can be served with GOPROXY=file://… and a developer's module cache can seed one. Files are 0600 and
/// directories 0700; an object appears by a no-replace rename of a complete (and, with Fsync, synced) file. The
/// store's own state is under ROOT/.warren, which is never a key.</summary>
public sealed class FileSystemArtifactStore : IArtifactStore, IDisposable
{
    private const string LockName = ".lock";

    private readonly string _root;
    private readonly string _staging;
    private readonly string _stagingParent;
    private readonly bool _fsync;
    private readonly bool _maintainLists;
    private readonly FileStream _stagingLock;
    // Striped, so the set of locks stays fixed however many modules pass through.
    private readonly SemaphoreSlim[] _listLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>Opens (creating when missing) the store at options.Root and takes a staging directory of its own.</summary>
    public FileSystemArtifactStore(FileSystemStoreOptions options)
    {
        FileSystemStoreOptionsValidator.ThrowIfInvalid(options);
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Root));
        _fsync = options.Fsync;
        _maintainLists = options.MaintainListFiles;
        PrivateFiles.CreateDirectory(_root);

        // Each process stages in a directory of its own, locked while it lives, so that a restarted server can tell a
        // dead process's leftovers from a live one's work.
        _stagingParent = Path.Combine(_root, StoreLayout.StateDirectory, "staging");
        _staging = Path.Combine(_stagingParent, Guid.NewGuid().ToString("N"));
        PrivateFiles.CreateDirectory(_staging);
        _stagingLock = PrivateFiles.OpenPrivate(Path.Combine(_staging, LockName), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
    }

    /// <summary>The store's directory, absolute.</summary>
    public string Root => _root;

    public string Location => _root;

    /// <summary>Releases the staging directory (and removes it).</summary>
    public void Dispose()
    {
        _stagingLock.Dispose();
        try
        {
            Directory.Delete(_staging, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A new path in this store's staging directory (on the store's file system, so publishing it is a
    /// rename). Not part of <see cref="IArtifactStore"/>.</summary>
    public string NewStagingFile() => Path.Combine(_staging, Guid.NewGuid().ToString("N") + ".partial");

    /// <summary>The file of a key: the key must be valid and its full path under the root.</summary>
    public string PathOf(string key)
    {
        StoreLayout.RequireValidKey(key);
        var full = Path.GetFullPath(Path.Combine(_root, key));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ||
            full.StartsWith(Path.Combine(_root, StoreLayout.StateDirectory) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"invalid store key {key}", nameof(key));
        }

        return full;
    }

    public ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken)
    {
        using var activity = WarrenActivity.Source.StartActivity(WarrenActivity.StoreGet);
        activity?.SetTag("warren.key", key);
        var path = PathOf(key);
        var info = new FileInfo(path);
        return ValueTask.FromResult<StoredObject?>(info.Exists ? new FileObject(key, info) : null);
    }

    public ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken) => ValueTask.FromResult(File.Exists(PathOf(key)));

    public async ValueTask<bool> PutIfAbsentAsync(string key, string stagedFile, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stagedFile);
        string target;
        try
        {
            target = PathOf(key);
        }
        catch (ArgumentException)
        {
            File.Delete(stagedFile);
            throw;
        }

        using var activity = WarrenActivity.Source.StartActivity(WarrenActivity.StoreCommit);
        activity?.SetTag("warren.key", key);
        if (File.Exists(target))
        {
            File.Delete(stagedFile);
            return false;
        }

        // A file staged elsewhere (maybe on another file system) first moves into the staging directory, so that the
        // publishing rename is atomic: a copy across file systems is never done under the key. A file already in a
        // staging directory of this store (the server's own) is on this file system and is renamed from there.
        var local = stagedFile;
        if (!IsStagedHere(stagedFile))
        {
            local = NewStagingFile();
            File.Move(stagedFile, local);
        }

        if (_fsync)
        {
            using var fs = new FileStream(local, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            fs.Flush(flushToDisk: true);
        }

        return await PublishAsync(key, local, target, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> PutIfAbsentAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var target = PathOf(key);
        using var activity = WarrenActivity.Source.StartActivity(WarrenActivity.StoreCommit);
        activity?.SetTag("warren.key", key);
        if (File.Exists(target))
        {
            return false;
        }

        var staged = NewStagingFile();
        try
        {
            var file = PrivateFiles.OpenPrivate(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (_fsync)
                {
                    file.Flush(flushToDisk: true);
                }
            }
        }
        catch
        {
            File.Delete(staged);
            throw;
        }

        return await PublishAsync(key, staged, target, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes the files in list order with two flushes of the file system in all (when fsync is on): one
    /// for the data of every staged file before any is renamed into place, one for the renames after the last. So
    /// nothing appears under a key before its content is durable, as with one file at a time, at the cost of two
    /// journal commits instead of two per file.</summary>
    public async ValueTask<IReadOnlyList<bool>> PutManyIfAbsentAsync(IReadOnlyList<(string Key, string StagedFile)> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var created = new bool[files.Count];
        var locals = new string?[files.Count];
        var modules = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var targets = files.Select(f => PathOf(f.Key)).ToArray();
            using (var activity = WarrenActivity.Source.StartActivity(WarrenActivity.StoreCommit))
            {
                activity?.SetTag("warren.keys", files.Count);
                for (var i = 0; i < files.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var staged = files[i].StagedFile;
                    if (File.Exists(targets[i]))
                    {
                        File.Delete(staged);
                        continue;
                    }

                    var local = staged;
                    if (!IsStagedHere(staged))
                    {
                        local = NewStagingFile();
                        File.Move(staged, local);
                    }

                    PrivateFiles.MakePrivate(local);
                    locals[i] = local;
                }

                if (_fsync && locals.Any(l => l is not null))
                {
                    StoreFiles.SyncFileSystem(_staging);
                }

                // From here on no cancellation: every file is either renamed into place or deleted.
                for (var i = 0; i < files.Count; i++)
                {
                    if (locals[i] is not { } local)
                    {
                        continue;
                    }

                    CreateDirectories(Path.GetDirectoryName(targets[i])!);
                    if (StoreFiles.TryMoveNoReplace(local, targets[i]))
                    {
                        created[i] = true;
                        if (_maintainLists && IsInfoOrMod(files[i].Key, out var modulePath))
                        {
                            modules.Add(modulePath);
                        }
                    }
                    else
                    {
                        File.Delete(local);
                    }

                    locals[i] = null;
                }

                if (_fsync && created.Any(c => c))
                {
                    StoreFiles.SyncFileSystem(_root);
                }
            }
        }
        catch
        {
            for (var i = 0; i < files.Count; i++)
            {
                if (locals[i] is { } local)
                {
                    File.Delete(local);
                }

                File.Delete(files[i].StagedFile);
            }

            throw;
        }

        await RewriteListFilesAsync(modules).ConfigureAwait(false);
        return created;
    }

    public async ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            // Gone meanwhile.
            return false;
        }

        if (_fsync)
        {
            StoreFiles.SyncDirectory(Path.GetDirectoryName(path)!);
        }

        if (_maintainLists && IsInfoOrMod(key, out var modulePath))
        {
            await RewriteListFileAsync(modulePath, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string dir;
        if (prefix.Length == 0)
        {
            dir = _root;
        }
        else
        {
            if (!prefix.EndsWith('/'))
            {
                throw new ArgumentException($"invalid store prefix {prefix}: must end in '/'", nameof(prefix));
            }

            dir = PathOf(prefix[..^1]);
        }

        if (!Directory.Exists(dir))
        {
            yield break;
        }

        var state = Path.Combine(_root, StoreLayout.StateDirectory);
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        foreach (var file in Directory.EnumerateFiles(dir, "*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.StartsWith(state + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                continue;
            }

            var key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (StoreLayout.IsValidKey(key))
            {
                yield return key;
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public ValueTask<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        var probe = NewStagingFile();
        try
        {
            using (PrivateFiles.OpenPrivate(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
            }

            File.Delete(probe);
            return ValueTask.FromResult<string?>(null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ValueTask.FromResult<string?>($"store {_root} is not writable: {ex.Message}");
        }
    }

    /// <summary>Removes the staging directories of processes that are gone; returns how many staged files went with them.</summary>
    public int CleanStaging()
    {
        var count = 0;
        if (!Directory.Exists(_stagingParent))
        {
            return 0;
        }

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

    /// <summary>Makes the (synced) staged file 0600 and renames it into place without replacing anything already
    /// there, then syncs the directories; rewrites the module's list when a .info or .mod appeared.</summary>
    private async ValueTask<bool> PublishAsync(string key, string staged, string target, CancellationToken cancellationToken)
    {
        PrivateFiles.MakePrivate(staged);
        var directory = Path.GetDirectoryName(target)!;
        var created = CreateDirectories(directory);
        try
        {
            // No-replace: of concurrent writers exactly one succeeds; the others delete their files.
            if (!StoreFiles.TryMoveNoReplace(staged, target))
            {
                File.Delete(staged);
                return false;
            }
        }
        catch
        {
            File.Delete(staged);
            throw;
        }

        SyncAfterRename(directory, created);
        if (_maintainLists && IsInfoOrMod(key, out var modulePath))
        {
            await RewriteListFileAsync(modulePath, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Whether a file is in one of this store's staging directories (STORE/.warren/staging/ID/NAME), so on
    /// the store's file system: a rename publishes it without a copy.</summary>
    private bool IsStagedHere(string file) =>
        Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(file))) is { } parent &&
        string.Equals(parent, _stagingParent, StringComparison.Ordinal);

    private static bool IsInfoOrMod(string key, out string modulePath)
    {
        if (StoreLayout.TryParseArtifactKey(key, out var path, out _, out var kind) && kind is ArtifactKind.Info or ArtifactKind.Mod)
        {
            modulePath = path;
            return true;
        }

        modulePath = "";
        return false;
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
            PrivateFiles.CreateDirectory(directory);
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
            var last = Path.GetDirectoryName(createdTopmost)!;
            for (var d = Path.GetDirectoryName(directory)!; ; d = Path.GetDirectoryName(d)!)
            {
                StoreFiles.SyncDirectory(d);
                if (string.Equals(d, last, StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
    }

    /// <summary>Keeps @v/list equal to the held release versions, as the go command's cache does, so file:// serving works.</summary>
    private async Task RewriteListFileAsync(string modulePath, CancellationToken cancellationToken)
    {
        var gate = _listLocks[ListStripe(modulePath)];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A version's second file (its .mod after its .info) leaves the list as it was: not written again, so a
            // version costs one list file, not two. (Compared under the module's lock, so concurrent commits of one
            // version's files cannot both skip the write.)
            if (await ListFileContentAsync(modulePath, cancellationToken).ConfigureAwait(false) is not { } list)
            {
                return;
            }

            var (listFile, bytes) = list;

            var staged = await StageBytesAsync(bytes, _fsync, cancellationToken).ConfigureAwait(false);
            File.Move(staged, listFile, overwrite: true);
            SyncAfterRename(Path.GetDirectoryName(listFile)!, null);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Rewrites the list files of many modules, as <see cref="RewriteListFileAsync"/> does each, with two flushes
    /// of the file system in all instead of a file and a directory fsync per list: every new list is staged, flushed,
    /// then renamed into place, then flushed again. The modules' list locks are held throughout, taken in stripe order
    /// (a caller holding one never waits for a batch that holds a lower one).</summary>
    private async Task RewriteListFilesAsync(IReadOnlyCollection<string> modules)
    {
        if (modules.Count == 0)
        {
            return;
        }

        var stripes = modules.Select(ListStripe).Distinct().Order().ToList();
        var held = 0;
        var pending = new List<(string Staged, string ListFile)>();
        try
        {
            foreach (var stripe in stripes)
            {
                await _listLocks[stripe].WaitAsync(CancellationToken.None).ConfigureAwait(false);
                held++;
            }

            foreach (var modulePath in modules)
            {
                if (await ListFileContentAsync(modulePath, CancellationToken.None).ConfigureAwait(false) is not { } list)
                {
                    continue;
                }

                pending.Add((await StageBytesAsync(list.Content, flushToDisk: false, CancellationToken.None).ConfigureAwait(false), list.File));
            }

            if (pending.Count == 0)
            {
                return;
            }

            if (_fsync)
            {
                StoreFiles.SyncFileSystem(_staging);
            }

            for (var i = 0; i < pending.Count; i++)
            {
                File.Move(pending[i].Staged, pending[i].ListFile, overwrite: true);
                pending[i] = default;
            }

            if (_fsync)
            {
                StoreFiles.SyncFileSystem(_root);
            }
        }
        finally
        {
            foreach (var (staged, _) in pending)
            {
                if (staged is not null)
                {
                    File.Delete(staged);
                }
            }

            for (var i = 0; i < held; i++)
            {
                _listLocks[stripes[i]].Release();
            }
        }
    }

    /// <summary>A new file in the staging directory holding content, flushed to disk when asked; its path. Nothing is
    /// left behind when writing fails.</summary>
    private async Task<string> StageBytesAsync(byte[] content, bool flushToDisk, CancellationToken cancellationToken)
    {
        var staged = NewStagingFile();
        try
        {
            var file = PrivateFiles.OpenPrivate(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            await using (file.ConfigureAwait(false))
            {
                await file.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                if (flushToDisk)
                {
                    file.Flush(flushToDisk: true);
                }
            }
        }
        catch
        {
            File.Delete(staged);
            throw;
        }

        return staged;
    }

    /// <summary>The list file of a module and the content it should hold, or null when it holds that already (or the
    /// module has no directory). Called under the module's list lock.</summary>
    private async Task<(string File, byte[] Content)?> ListFileContentAsync(string modulePath, CancellationToken cancellationToken)
    {
        var prefix = StoreLayout.VersionsPrefix(modulePath);
        var directory = PathOf(prefix[..^1]);
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var keys = Directory.EnumerateFiles(directory).Select(f => prefix + Path.GetFileName(f));
        var releases = StoreLayout.VersionsOf(keys).Where(v => !PseudoVersion.IsPseudoVersion(v));
        var bytes = System.Text.Encoding.UTF8.GetBytes(string.Concat(releases.Select(v => v + "\n")));
        var listFile = Path.Combine(directory, "list");
        return await HoldsAsync(listFile, bytes, cancellationToken).ConfigureAwait(false) ? null : (listFile, bytes);
    }

    private int ListStripe(string modulePath) => (int)((uint)StringComparer.Ordinal.GetHashCode(modulePath) % (uint)_listLocks.Length);

    /// <summary>Whether file exists and holds exactly content (read whole: a list file is small).</summary>
    private static async Task<bool> HoldsAsync(string file, byte[] content, CancellationToken cancellationToken)
    {
        try
        {
            var held = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
            return held.AsSpan().SequenceEqual(content);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    /// <summary>A file of the store.</summary>
    private sealed class FileObject(string key, FileInfo info)
        : StoredObject(key, info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), ETagOf(info))
    {
        private readonly string _path = info.FullName;

        public override string? LocalPath => _path;

        public override ValueTask<Stream> OpenReadAsync(long offset, long? length, CancellationToken cancellationToken)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
            if (length is { } l)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
                ArgumentOutOfRangeException.ThrowIfGreaterThan(l, Length - offset, nameof(length));
            }

            var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            try
            {
                if (offset > 0)
                {
                    stream.Seek(offset, SeekOrigin.Begin);
                }
            }
            catch
            {
                stream.Dispose();
                throw;
            }

            return ValueTask.FromResult<Stream>(new LimitedReadStream(stream, length ?? Length - offset));
        }

        private static string ETagOf(FileInfo info)
        {
            var modified = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
            return "\"" + info.Length.ToString("x", CultureInfo.InvariantCulture) + "-" +
                   modified.ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture) + "\"";
        }
    }
}

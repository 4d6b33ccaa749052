using System.IO.Compression;
using System.Text;
using Warren.Core.Modules;

namespace Warren.Fetch.Direct.Repo;

/// <summary>
/// Turns the output of <c>git archive --format=zip --prefix=prefix/</c> into a module zip the way codeRepo.Zip and
/// golang.org/x/mod/zip.Create (Go 1.19) do: only the module's subdirectory, directories dropped, the repository-root
/// LICENSE added when the subdirectory has none, then Create's rules — files of nested modules (a directory holding a
/// regular file named go.mod in any case), vendored packages (isVendoredPackage with its known offset bug),
/// .hg_archival.txt, symbolic links and other irregular files are left out; unclean or invalid file paths, go.mod in the
/// wrong case, case-insensitive collisions and oversized go.mod/LICENSE/tree are errors that fail the whole zip.
/// </summary>
internal static class ModuleZipBuilder
{
    private const int UnixTypeMask = 0xF000;
    private const int UnixSymlink = 0xA000;
    private const int UnixRegular = 0x8000;

    private static readonly DateTimeOffset FixedTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>One candidate file of the module (zip.File): its path relative to the module root and where its bytes are.</summary>
    private sealed record SourceFile(string Path, bool ValidUtf8, bool IsSymlink, bool IsRegular, long Size, ZipArchiveEntry? Entry, byte[]? Data);

    public static async Task CreateFromGitArchiveAsync(string archivePath, string subdir, Func<Task<byte[]?>> readRootLicense,
        string modulePath, string version, string destination, CancellationToken cancellationToken)
    {
        await using var archiveStream = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        ZipArchive archive;
        try
        {
            // Names without the UTF-8 flag are decoded as Latin-1 so that their bytes can be recovered exactly.
            archive = new ZipArchive(archiveStream, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: Encoding.Latin1);
        }
        catch (InvalidDataException e)
        {
            throw new RepoException(DirectStatus.Failed, "reading git archive: " + e.Message);
        }

        using (archive)
        {
            var files = new List<SourceFile>();
            string prefix = subdir.Length != 0 ? subdir + "/" : "";
            bool haveLicense = false;
            string topPrefix = "";
            foreach (var entry in archive.Entries)
            {
                var (rawName, validUtf8) = RawName(entry);
                if (topPrefix.Length == 0)
                {
                    int i = rawName.IndexOf('/', StringComparison.Ordinal);
                    if (i < 0)
                    {
                        throw new RepoException(DirectStatus.Failed, "missing top-level directory prefix");
                    }

                    topPrefix = rawName[..(i + 1)];
                }

                if (!rawName.StartsWith(topPrefix, StringComparison.Ordinal))
                {
                    throw new RepoException(DirectStatus.Failed, "zip file contains more than one top-level directory");
                }

                string name = rawName[topPrefix.Length..];
                if (!name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                name = name[prefix.Length..];
                if (name.Length == 0 || name.EndsWith('/'))
                {
                    continue;
                }

                int unixMode = (int)((uint)entry.ExternalAttributes >> 16);
                int type = unixMode & UnixTypeMask;
                bool symlink = type == UnixSymlink;
                bool regular = type == 0 || type == UnixRegular;
                files.Add(new SourceFile(name, validUtf8, symlink, regular, entry.Length, entry, null));
                if (name == "LICENSE")
                {
                    haveLicense = true;
                }
            }

            if (!haveLicense && subdir.Length != 0)
            {
                var license = await readRootLicense().ConfigureAwait(false);
                if (license is not null)
                {
                    files.Add(new SourceFile("LICENSE", true, false, true, license.Length, null, license));
                }
            }

            var valid = CheckFiles(files);
            await WriteAsync(valid, modulePath + "@" + version + "/", destination, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The entry name as Go sees it (a byte string): Latin-1 decoding gives back the bytes of names stored without the
    /// UTF-8 flag; git sets the flag on every valid non-ASCII UTF-8 name, so such names are not valid UTF-8 (or are ASCII).</summary>
    private static (string Name, bool ValidUtf8) RawName(ZipArchiveEntry entry)
    {
        string name = entry.FullName;
        bool ascii = true;
        foreach (char c in name)
        {
            if (c >= 0x80)
            {
                ascii = false;
                break;
            }
        }

        if (ascii)
        {
            return (name, true);
        }

        // Flagged entries were decoded as UTF-8 and hold characters above U+00FF or are valid when re-encoded; unflagged
        // ones hold only Latin-1 characters. Try to read the Latin-1 bytes as strict UTF-8.
        bool latin1Only = true;
        foreach (char c in name)
        {
            if (c > 0xFF)
            {
                latin1Only = false;
                break;
            }
        }

        if (latin1Only)
        {
            var bytes = Encoding.Latin1.GetBytes(name);
            try
            {
                return (new UTF8Encoding(false, true).GetString(bytes), true);
            }
            catch (DecoderFallbackException)
            {
                // Not UTF-8: keep a readable form for messages (invalid sequences replaced).
                return (Encoding.UTF8.GetString(bytes), false);
            }
        }

        return (name, true);
    }

    /// <summary>zip.checkFiles: the files to put in the zip, in order; throws with Create's error when a file is invalid.</summary>
    private static List<SourceFile> CheckFiles(List<SourceFile> files)
    {
        var errPaths = new HashSet<string>(StringComparer.Ordinal);
        var invalid = new List<string>();
        string? sizeError = null;

        void AddError(string path, bool omitted, string err)
        {
            if (!errPaths.Add(path))
            {
                return;
            }

            if (!omitted)
            {
                invalid.Add(path + ": " + err);
            }
        }

        // Directories holding a regular go.mod (any case) other than the root: their files belong to other modules.
        var haveGoMod = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            var (dir, baseName) = SplitPath(f.Path);
            if (string.Equals(baseName, "go.mod", StringComparison.OrdinalIgnoreCase) && f.IsRegular && !f.IsSymlink)
            {
                haveGoMod.Add(dir);
            }
        }

        bool InSubmodule(string p)
        {
            while (true)
            {
                var (dir, _) = SplitPath(p);
                if (dir.Length == 0)
                {
                    return false;
                }

                if (haveGoMod.Contains(dir))
                {
                    return true;
                }

                p = dir[..^1];
            }
        }

        var collisions = new Dictionary<string, (string Path, bool IsDir)>(StringComparer.Ordinal);
        long maxSize = ModuleZip.MaxZipFile;
        var valid = new List<SourceFile>();
        foreach (var f in files)
        {
            string p = f.Path;
            if (p != ModuleZip.CleanPath(p))
            {
                AddError(p, false, "file path is not clean");
                continue;
            }

            if (p.StartsWith('/'))
            {
                AddError(p, false, "file path is not relative");
                continue;
            }

            if (IsVendoredPackage(p))
            {
                AddError(p, true, "file is in vendor directory");
                continue;
            }

            if (InSubmodule(p))
            {
                AddError(p, true, "file is in another module");
                continue;
            }

            if (p == ".hg_archival.txt")
            {
                AddError(p, true, "file is inserted by 'hg archive' and is always omitted");
                continue;
            }

            string? pathError = f.ValidUtf8 ? ModulePath.CheckFilePath(p) : "invalid UTF-8";
            if (pathError is not null)
            {
                AddError(p, false, ModulePath.FormatInvalidPath("file", p, pathError));
                continue;
            }

            if (p.ToLowerInvariant() == "go.mod" && p != "go.mod")
            {
                AddError(p, false, "go.mod files must have lowercase names");
                continue;
            }

            if (ModuleZip.CheckCollision(collisions, p, isDir: false) is { } collision)
            {
                AddError(p, false, collision);
                continue;
            }

            if (f.IsSymlink)
            {
                AddError(p, true, "file is a symbolic link");
                continue;
            }

            if (!f.IsRegular)
            {
                AddError(p, true, "not a regular file");
                continue;
            }

            long size = f.Size;
            if (size >= 0 && size <= maxSize)
            {
                maxSize -= size;
            }
            else
            {
                sizeError ??= $"module source tree too large (max size is {ModuleZip.MaxZipFile} bytes)";
            }

            if (p == "go.mod" && size > ModuleZip.MaxGoMod)
            {
                AddError(p, false, $"go.mod file too large (max size is {ModuleZip.MaxGoMod} bytes)");
                continue;
            }

            if (p == "LICENSE" && size > ModuleZip.MaxLicense)
            {
                AddError(p, false, $"LICENSE file too large (max size is {ModuleZip.MaxLicense} bytes)");
                continue;
            }

            valid.Add(f);
        }

        if (sizeError is not null)
        {
            throw new RepoException(DirectStatus.NotFound, "create zip: " + sizeError);
        }

        if (invalid.Count > 0)
        {
            throw new RepoException(DirectStatus.NotFound, "create zip: " + string.Join('\n', invalid));
        }

        return valid;
    }

    private static async Task WriteAsync(List<SourceFile> files, string prefix, string destination, CancellationToken cancellationToken)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(destination));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        await using var output = new FileStream(destination, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var f in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entry = zip.CreateEntry(prefix + f.Path, CompressionLevel.Optimal);
                entry.LastWriteTime = FixedTime;
                await using var target = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
                if (f.Data is not null)
                {
                    await target.WriteAsync(f.Data, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                await using var source = await f.Entry!.OpenAsync(cancellationToken).ConfigureAwait(false);
                long copied = await CopyLimitedAsync(source, target, f.Size + 1, cancellationToken).ConfigureAwait(false);
                if (copied > f.Size)
                {
                    throw new RepoException(DirectStatus.Failed, $"create zip: file {GoQuoting.Quote(f.Path)} is larger than declared size");
                }
            }
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<long> CopyLimitedAsync(Stream source, Stream target, long limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        while (total < limit)
        {
            int want = (int)Math.Min(buffer.Length, limit - total);
            int n = await source.ReadAsync(buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            await target.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            total += n;
        }

        return total;
    }

    /// <summary>
    /// zip.isVendoredPackage, bug included (golang.org/issue/31562): for a "/vendor/" not at the start, the offset is
    /// len("/vendor/") from the start of the name instead of from the match, so every file below any nested vendor
    /// directory is dropped, while the top-level vendor/ keeps its own files (vendor/modules.txt) and drops subdirectories.
    /// </summary>
    internal static bool IsVendoredPackage(string name)
    {
        int i;
        if (name.StartsWith("vendor/", StringComparison.Ordinal))
        {
            i = "vendor/".Length;
        }
        else if (name.Contains("/vendor/", StringComparison.Ordinal))
        {
            i = "/vendor/".Length;
        }
        else
        {
            return false;
        }

        return name.AsSpan(i).Contains('/');
    }

    /// <summary>path.Split: ("a/b/", "c") for "a/b/c", ("", "c") for "c".</summary>
    private static (string Dir, string Base) SplitPath(string p)
    {
        int i = p.LastIndexOf('/');
        return i < 0 ? ("", p) : (p[..(i + 1)], p[(i + 1)..]);
    }

}

using System.Runtime.InteropServices;
using System.Text;

namespace Warren.Storage.FileSystem;

/// <summary>Durability of the store's files: fsync of a directory after a rename into it, and renames that never
/// replace (the modes of its files are <see cref="PrivateFiles"/>').</summary>
public static class StoreFiles
{
    /// <summary>fsyncs a directory, making the creation, removal and renaming of its entries durable. Windows has no
    /// such call (and needs none for its journaled metadata).</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Sync(directory, Native.FSync, "cannot open directory {0} to sync it", "cannot sync directory {0}");
    }

    /// <summary>Flushes everything written to the file system that holds path (syncfs): file data, new names and renames
    /// alike, in one journal commit instead of one per file. Windows: nothing (its metadata is journaled; file data is
    /// flushed per file by callers that need it there).</summary>
    public static void SyncFileSystem(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Sync(path, Native.SyncFs, "cannot open {0} to sync its file system", "cannot sync the file system of {0}");
    }

    /// <summary>Opens path read-only and applies a sync call (fsync, syncfs) to it; an IOException names the step that failed.</summary>
    private static void Sync(string path, Func<int, int> call, string openFailed, string syncFailed)
    {
        var fd = Native.Open(Encoding.UTF8.GetBytes(path + "\0"), 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException(string.Format(System.Globalization.CultureInfo.InvariantCulture, openFailed, path) + $" (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (call(fd) != 0)
            {
                throw new IOException(string.Format(System.Globalization.CultureInfo.InvariantCulture, syncFailed, path) + $" (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    /// <summary>Renames source to target unless target exists, atomically: of concurrent callers for one target exactly
    /// one succeeds. True when source became target; false, with source left in place, when target existed. Both must
    /// be on one file system. (File.Move without overwrite checks for the target, then renames: two callers can both
    /// succeed, and the last one's file stays.) Linux: renameat2(RENAME_NOREPLACE), or link and unlink on file systems
    /// without it; Windows: MoveFileEx without replacing, which is atomic.</summary>
    public static bool TryMoveNoReplace(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(source, target, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(target))
            {
                return false;
            }
        }

        var from = Encoding.UTF8.GetBytes(source + "\0");
        var to = Encoding.UTF8.GetBytes(target + "\0");
        int errno;
        try
        {
            if (Native.RenameAt2(Native.AtFdCwd, from, Native.AtFdCwd, to, Native.RenameNoReplace) == 0)
            {
                return true;
            }

            errno = Marshal.GetLastPInvokeError();
        }
        catch (EntryPointNotFoundException)
        {
            errno = Native.ENOSYS;
        }

        if (errno == Native.EEXIST)
        {
            return false;
        }

        if (errno is not (Native.EINVAL or Native.ENOSYS or Native.EOPNOTSUPP))
        {
            throw new IOException($"cannot move {source} to {target} (errno {errno})");
        }

        // No RENAME_NOREPLACE here: a hard link is created only when the name is free.
        if (Native.Link(from, to) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return errno == Native.EEXIST ? false : throw new IOException($"cannot link {source} to {target} (errno {errno})");
        }

        _ = Native.Unlink(from);
        return true;
    }

    /// <summary>Makes a second name for an existing file (a hard link; both on one file system). False when the link
    /// cannot be made (another file system, the name is taken, no hard links here).</summary>
    public static bool TryHardLink(string existing, string link)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        return Native.Link(Encoding.UTF8.GetBytes(existing + "\0"), Encoding.UTF8.GetBytes(link + "\0")) == 0;
    }

    /// <summary>Opens an existing file for reading without the advisory lock .NET takes on Unix for any FileShare (flock
    /// LOCK_SH), so that this reader never makes another opener's FileShare.None fail (the store opens a staged file so
    /// to fsync it). Null when the file does not exist.</summary>
    public static Microsoft.Win32.SafeHandles.SafeFileHandle? OpenReadUnlocked(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
        }

        var fd = Native.Open(Encoding.UTF8.GetBytes(path + "\0"), Native.ReadOnlyCloseOnExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is Native.ENOENT ? null : throw new IOException($"cannot open {path} (errno {errno})");
        }

        return new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Sets the process's umask to 077, so that whatever the serving process and its git children create
    /// (mirrors, checksum database caches, staged downloads) is private to the user; returns the previous mask.
    /// Nothing on Windows.</summary>
    public static int RestrictProcessUmask() => OperatingSystem.IsWindows() ? 0 : Native.Umask(0x3f /* 077 */);

    private static class Native
    {
        [DllImport("libc", EntryPoint = "umask")]
        public static extern int Umask(int mask);

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open(byte[] path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int FSync(int fd);

        [DllImport("libc", EntryPoint = "syncfs", SetLastError = true)]
        public static extern int SyncFs(int fd);

        [DllImport("libc", EntryPoint = "close")]
        public static extern int Close(int fd);

        public const int AtFdCwd = -100;
        public const int ReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC
        public const int ENOENT = 2;
        public const uint RenameNoReplace = 1;
        public const int EEXIST = 17;
        public const int EINVAL = 22;
        public const int ENOSYS = 38;
        public const int EOPNOTSUPP = 95;

        [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
        public static extern int RenameAt2(int oldDirFd, byte[] oldPath, int newDirFd, byte[] newPath, uint flags);

        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        public static extern int Link(byte[] oldPath, byte[] newPath);

        [DllImport("libc", EntryPoint = "unlink", SetLastError = true)]
        public static extern int Unlink(byte[] path);
    }
}

using System.Runtime.InteropServices;
using System.Text;

namespace Warren.Storage.FileSystem;

/// <summary>Permissions and durability of the store's files: directories 0700 and files 0600 (the store may hold
/// private modules), and fsync of a directory after a rename into it.</summary>
public static class StoreFiles
{
    /// <summary>The mode of every directory the store creates.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The mode of every file the store publishes.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates a directory (and its missing parents) with mode 0700.</summary>
    public static DirectoryInfo CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return Directory.CreateDirectory(path);
        }

        // Directory.CreateDirectory(path, mode) gives the mode to the last directory only: create each level.
        path = Path.GetFullPath(path);
        if (!Directory.Exists(path) && Path.GetDirectoryName(path) is { } parent)
        {
            CreateDirectory(parent);
        }

        return Directory.CreateDirectory(path, DirectoryMode);
    }

    /// <summary>Creates a directory with mode 0700, or narrows an existing one to 0700 (a store made by an older version).</summary>
    public static void EnsurePrivateDirectory(string path)
    {
        CreateDirectory(path);
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) != DirectoryMode)
        {
            File.SetUnixFileMode(path, DirectoryMode);
        }
    }

    /// <summary>Opens a file that, when created, gets mode 0600.</summary>
    public static FileStream OpenPrivate(string path, System.IO.FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        return new FileStream(path, options);
    }

    /// <summary>Sets a file's mode to 0600 (nothing on Windows).</summary>
    public static void MakePrivate(string file)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, FileMode);
        }
    }

    /// <summary>fsyncs a directory, making the creation, removal and renaming of its entries durable. Windows has no
    /// such call (and needs none for its journaled metadata).</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Native.Open(Encoding.UTF8.GetBytes(directory + "\0"), 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Native.FSync(fd) != 0)
            {
                throw new IOException($"cannot sync directory {directory} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Native.Close(fd);
        }
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

        [DllImport("libc", EntryPoint = "close")]
        public static extern int Close(int fd);
    }
}

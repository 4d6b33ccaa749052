namespace Warren.Storage;

/// <summary>Files and directories private to the user: directories 0700 and files 0600 (stores and indexes may name
/// or hold private modules). Modes are not set on Windows.</summary>
public static class PrivateFiles
{
    /// <summary>The mode of every private directory.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The mode of every private file.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates a directory (and its missing parents) with mode 0700; directories that exist are left as they are.</summary>
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

    /// <summary>Creates a directory with mode 0700, or narrows an existing one to 0700 (one made by an older version).</summary>
    public static void EnsurePrivateDirectory(string path)
    {
        CreateDirectory(path);
        Narrow(path, DirectoryMode);
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

    /// <summary>Creates an empty file with mode 0600 unless one exists, and narrows an existing file to 0600.</summary>
    public static void EnsurePrivateFile(string path)
    {
        using (OpenPrivate(path, System.IO.FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
        {
        }

        Narrow(path, FileMode);
    }

    /// <summary>Sets a file's mode to 0600.</summary>
    public static void MakePrivate(string file)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, FileMode);
        }
    }

    private static void Narrow(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) != mode)
        {
            File.SetUnixFileMode(path, mode);
        }
    }
}

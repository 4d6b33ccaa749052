namespace Warren.Storage.Sqlite;

/// <summary>The index may name private modules: its directory is 0700 and its file 0600 (SQLite gives its -wal and
/// -shm files the database file's mode).</summary>
internal static class PrivateFiles
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates a directory and its missing parents with mode 0700; directories that exist are left as they are.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        // Directory.CreateDirectory(path, mode) gives the mode to the last directory only: create each level.
        path = Path.GetFullPath(path);
        if (Directory.Exists(path))
        {
            return;
        }

        if (Path.GetDirectoryName(path) is { } parent)
        {
            CreateDirectory(parent);
        }

        Directory.CreateDirectory(path, DirectoryMode);
    }

    /// <summary>Creates an empty file with mode 0600 unless one exists, and narrows an existing file to 0600.</summary>
    public static void EnsurePrivateFile(string path)
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.OpenOrCreate, Access = FileAccess.Write, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        using (new FileStream(path, options))
        {
        }

        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) != FileMode)
        {
            File.SetUnixFileMode(path, FileMode);
        }
    }
}

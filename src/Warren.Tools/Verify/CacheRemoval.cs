namespace Warren.Tools.Verify;

/// <summary>Removes files and directories of a module cache, and nothing outside it.</summary>
internal static class CacheRemoval
{
    /// <summary>Removes target (a file, or a directory tree that the go command made read-only: write permission is
    /// given back to its directories first; symbolic links are removed, never followed).</summary>
    /// <exception cref="InvalidOperationException">target is not strictly inside modCache.</exception>
    public static void Remove(string modCache, string target)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(modCache)) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(target);
        if (!full.StartsWith(root, StringComparison.Ordinal) || full.Length <= root.Length)
        {
            throw new InvalidOperationException($"refusing to remove {full}: not inside the module cache {root}");
        }

        // Every directory between the cache and the target must be a real directory: a symbolic link would lead outside.
        var parent = Path.GetDirectoryName(full)!;
        for (var d = parent; d.Length >= root.Length; d = Path.GetDirectoryName(d)!)
        {
            if (new DirectoryInfo(d).LinkTarget is not null)
            {
                throw new InvalidOperationException($"refusing to remove {full}: {d} is a symbolic link");
            }
        }

        var info = new FileInfo(full);
        if (info.LinkTarget is null && Directory.Exists(full))
        {
            MakeWritable(new DirectoryInfo(full));
            Directory.Delete(full, recursive: true);
        }
        else if (info.Exists || info.LinkTarget is not null)
        {
            info.Delete();
        }
    }

    private static void MakeWritable(DirectoryInfo dir)
    {
        if (!OperatingSystem.IsWindows())
        {
            dir.UnixFileMode |= UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        }

        foreach (var sub in dir.EnumerateDirectories())
        {
            if (sub.LinkTarget is null)
            {
                MakeWritable(sub);
            }
        }
    }
}

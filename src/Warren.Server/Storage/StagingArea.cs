namespace Warren.Server.Storage;

/// <summary>The node's local staging directory, where downloads are written and checked before they go into the
/// artifact store: ROOT/.warren/staging/ID, one per process, locked while the process lives, so a restarted server
/// can tell a dead process's leftovers from a live one's downloads. Under the store root, so that the file store
/// publishes a staged file with a rename.</summary>
public sealed class StagingArea : IDisposable
{
    private const string LockName = ".lock";

    private readonly string _parent;
    private readonly FileStream _lock;

    public StagingArea(StoreLock storeLock)
    {
        ArgumentNullException.ThrowIfNull(storeLock);
        _parent = Path.Combine(storeLock.Root, ".warren", "staging");
        Directory = Path.Combine(_parent, Guid.NewGuid().ToString("N"));
        PrivateFiles.CreateDirectory(Directory);
        _lock = new FileStream(Path.Combine(Directory, LockName), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        PrivateFiles.MakePrivate(Path.Combine(Directory, LockName));
    }

    /// <summary>This process's staging directory.</summary>
    public string Directory { get; }

    public void Dispose() => _lock.Dispose();

    /// <summary>A fresh path in this process's staging directory (not created).</summary>
    public string NewFile() => Path.Combine(Directory, Guid.NewGuid().ToString("N") + ".partial");

    /// <summary>Writes bytes to a fresh staged file and returns its path.</summary>
    public async Task<string> StageAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var file = NewFile();
        await File.WriteAllBytesAsync(file, content, cancellationToken).ConfigureAwait(false);
        return file;
    }

    /// <summary>Removes what dead processes left in staging; returns how many files went.</summary>
    public int CleanStale()
    {
        var count = 0;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(_parent))
        {
            if (string.Equals(dir, Directory, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                // Opening the lock exclusively succeeds only when its owner is gone.
                using (new FileStream(Path.Combine(dir, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
                {
                    count += System.IO.Directory.EnumerateFiles(dir).Count() - 1;
                }

                System.IO.Directory.Delete(dir, recursive: true);
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

    /// <summary>Readiness: can a file be staged now? Null when it can, else a one-line reason.</summary>
    public string? Probe()
    {
        var probe = NewFile();
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"staging directory {Directory} is not writable: {ex.Message}";
        }
    }
}

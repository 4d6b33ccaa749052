using System.Globalization;

namespace Warren.Server.Storage;

/// <summary>One serving process per store: an exclusive lock on ROOT/.warren/serve.lock, held while the process lives
/// and released by the operating system when it dies (a kill -9 included), with the holder's pid in serve.pid. A second
/// process on the same root fails to start with an <see cref="IOException"/> naming the root and the holder.</summary>
public sealed class StoreLock : IDisposable
{
    public const string LockName = "serve.lock";
    public const string PidName = "serve.pid";

    private readonly FileStream _lock;

    public StoreLock(IOptions<WarrenOptions> options)
    {
        Root = Path.GetFullPath(options.Value.Root ?? throw new InvalidOperationException("store root is not set"));
        PrivateFiles.EnsurePrivateDirectory(Root);
        var dir = Path.Combine(Root, ".warren");
        PrivateFiles.EnsurePrivateDirectory(dir);
        var pidFile = Path.Combine(dir, PidName);
        try
        {
            _lock = PrivateFiles.OpenPrivate(Path.Combine(dir, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"store {Root} is in use by another warren serve{Holder(pidFile)}; stop it or use another --root", ex);
        }

        var staged = pidFile + ".tmp";
        File.WriteAllText(staged, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        PrivateFiles.MakePrivate(staged);
        File.Move(staged, pidFile, overwrite: true);
    }

    /// <summary>The store root (absolute).</summary>
    public string Root { get; }

    public void Dispose() => _lock.Dispose();

    private static string Holder(string pidFile)
    {
        try
        {
            var text = File.ReadAllText(pidFile).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? $" (pid {pid})" : "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}

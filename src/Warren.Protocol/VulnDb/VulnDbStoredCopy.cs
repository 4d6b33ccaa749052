using System.Text.Json;
using System.Text.Json.Serialization;

namespace Warren.Protocol.VulnDb;

/// <summary>Where the source of the stored copy came from, and the validators of its index/db.json (for the next
/// conditional request).</summary>
public sealed record VulnDbState(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("etag")] string? ETag,
    [property: JsonPropertyName("lastModified")] DateTimeOffset? LastModified,
    [property: JsonPropertyName("stored")] DateTimeOffset Stored);

/// <summary>The last good copy of the vulnerability database kept under the store root: ROOT/.warren/vulndb/vulndb.zip
/// (the layout of vuln.go.dev's vulndb.zip) and state.json beside it. Both are replaced atomically (a temporary file,
/// then a rename), the zip first: a crash between the two leaves a copy whose state is older, which only costs one
/// unconditional request.</summary>
public static class VulnDbStoredCopy
{
    /// <summary>Set as the source of a copy brought in by warren import.</summary>
    public const string ImportedSource = "import";

    public static string DirectoryOf(string root) => Path.Combine(Path.GetFullPath(root), ".warren", "vulndb");

    public static string ZipPath(string root) => Path.Combine(DirectoryOf(root), VulnDbArchive.FileName);

    public static string StatePath(string root) => Path.Combine(DirectoryOf(root), "state.json");

    /// <summary>The stored copy, or null when there is none; <see cref="Core.Vulns.OsvFormatException"/> or
    /// <see cref="IOException"/> when it cannot be read.</summary>
    public static (VulnDbSnapshot Snapshot, VulnDbState? State)? Load(string root, VulnDbLimits limits)
    {
        var zip = ZipPath(root);
        if (!File.Exists(zip))
        {
            return null;
        }

        VulnDbSnapshot snapshot;
        using (var file = new FileStream(zip, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete))
        {
            snapshot = VulnDbArchive.Read(file, limits);
        }

        VulnDbState? state = null;
        try
        {
            state = File.Exists(StatePath(root)) ? JsonSerializer.Deserialize<VulnDbState>(File.ReadAllBytes(StatePath(root))) : null;
        }
        catch (JsonException)
        {
            // A state that does not parse costs one unconditional request, nothing more.
        }

        return (snapshot, state);
    }

    /// <summary>Stores a copy and its state, each atomically; the directory is private (0700).</summary>
    public static void Save(string root, VulnDbSnapshot snapshot, VulnDbState state)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(state);
        var dir = DirectoryOf(root);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        VulnDbArchive.WriteFile(snapshot, ZipPath(root));
        SaveState(root, state);
    }

    /// <summary>Replaces state.json atomically.</summary>
    public static void SaveState(string root, VulnDbState state)
    {
        var path = StatePath(root);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(state));
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Warren.Server.Auth;

/// <summary>The auth file: every principal that may use Warren when access control is on.</summary>
public sealed class AuthFileDocument
{
    /// <summary>Format version; 1.</summary>
    public int Version { get; set; } = 1;

    public List<AuthPrincipalEntry> Principals { get; set; } = [];
}

/// <summary>One principal: a name, the hash of its token, what it may read.</summary>
public sealed class AuthPrincipalEntry
{
    /// <summary>Unique name (letters, digits, '.', '_', '-', '@'), shown in logs.</summary>
    public string Name { get; set; } = "";

    /// <summary>The token's public id (16 hex digits, the part after "wrn_"): finds the principal without trying every hash.</summary>
    public string Id { get; set; } = "";

    public TokenHashEntry Hash { get; set; } = new();

    /// <summary>GOPRIVATE-style patterns of the module paths this principal may read.</summary>
    public List<string> Grants { get; set; } = [];

    /// <summary>May read /metrics.</summary>
    public bool Admin { get; set; }

    /// <summary>After this instant the token is refused; null never expires.</summary>
    public DateTimeOffset? Expires { get; set; }

    public DateTimeOffset? Created { get; set; }
}

/// <summary>A slow hash of a token, with everything needed to recompute it.</summary>
public sealed class TokenHashEntry
{
    public string Algorithm { get; set; } = TokenHash.Algorithm;

    public int MemoryKiB { get; set; }

    public int Iterations { get; set; }

    public int Parallelism { get; set; }

    /// <summary>Base64 salt.</summary>
    public string Salt { get; set; } = "";

    /// <summary>Base64 hash.</summary>
    public string Value { get; set; } = "";
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(AuthFileDocument))]
internal sealed partial class AuthFileJsonContext : JsonSerializerContext;

/// <summary>A broken auth file: the reason names the file and what is wrong.</summary>
public sealed class AuthFileException(string message) : Exception(message);

/// <summary>Reads, checks and writes auth files. Writes are atomic (temporary file, then rename) and mode 600; edits
/// hold a lock file so concurrent `warren token` runs do not lose each other's changes.</summary>
public static class AuthFile
{
    /// <summary>Reserved: the principal recorded for requests without a token.</summary>
    public const string AnonymousName = "anonymous";

    /// <summary>Largest auth file read (a file this size holds tens of thousands of principals).</summary>
    public const long MaxBytes = 16 * 1024 * 1024;

    /// <exception cref="AuthFileException">Missing, unreadable, not JSON or not a valid auth file.</exception>
    public static AuthFileDocument Load(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new AuthFileException($"auth file {path}: does not exist (create it with warren token create)");
            }

            if (info.Length > MaxBytes)
            {
                throw new AuthFileException($"auth file {path}: larger than {MaxBytes} bytes");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuthFileException($"auth file {path}: cannot read: {e.Message}");
        }

        AuthFileDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize(bytes, AuthFileJsonContext.Default.AuthFileDocument);
        }
        catch (JsonException e)
        {
            throw new AuthFileException($"auth file {path}: not valid JSON (line {(e.LineNumber ?? 0) + 1}): {e.Message.Split(" Path:")[0]}");
        }

        if (doc is null)
        {
            throw new AuthFileException($"auth file {path}: empty (want {{\"version\":1,\"principals\":[…]}})");
        }

        if (Check(doc) is { } problem)
        {
            throw new AuthFileException($"auth file {path}: {problem}");
        }

        return doc;
    }

    /// <summary>null when the document is a valid auth file, else the first problem.</summary>
    public static string? Check(AuthFileDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.Version != 1)
        {
            return $"unsupported version {doc.Version} (want 1)";
        }

        if (doc.Principals is null)
        {
            return "no \"principals\" array";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < doc.Principals.Count; i++)
        {
            var p = doc.Principals[i];
            if (p is null)
            {
                return $"principal {i + 1}: null";
            }

            if (CheckName(p.Name) is { } nameProblem)
            {
                return $"principal {i + 1}: {nameProblem}";
            }

            if (!names.Add(p.Name))
            {
                return $"principal \"{p.Name}\" appears twice";
            }

            if (!TokenFormat.IsId(p.Id) || !ids.Add(p.Id))
            {
                return $"principal \"{p.Name}\": id must be {TokenFormat.IdLength} lower-case hex digits, unique";
            }

            if (p.Hash is null || TokenHash.Check(p.Hash) is { } hashProblem)
            {
                return $"principal \"{p.Name}\": hash: {(p.Hash is null ? "missing" : TokenHash.Check(p.Hash))}";
            }

            if (p.Grants is null || p.Grants.Any(g => string.IsNullOrWhiteSpace(g) || g.Contains(',', StringComparison.Ordinal) || ModulePatterns.Validate(g) is not null))
            {
                return $"principal \"{p.Name}\": grants must be a list of well-formed GOPRIVATE-style patterns, one per entry";
            }
        }

        return null;
    }

    /// <summary>null when the name is acceptable for a principal.</summary>
    public static string? CheckName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
        {
            return $"name \"{name}\" must be 1-64 letters, digits, '.', '_', '-' or '@'";
        }

        return string.Equals(name, AnonymousName, StringComparison.OrdinalIgnoreCase) ? $"name \"{name}\" is reserved" : null;
    }

    /// <summary>Writes the document atomically with mode 600: a temporary file beside the target, flushed to disk, then renamed over it.</summary>
    public static void Save(string path, AuthFileDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, OwnerOnly(FileMode.CreateNew, FileAccess.Write)))
            {
                JsonSerializer.Serialize(stream, doc, AuthFileJsonContext.Default.AuthFileDocument);
                stream.WriteByte((byte)'\n');
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Loads the file (an empty document when it does not exist), applies the edit and saves it, holding
    /// FILE.lock meanwhile. Returns what the edit returns.</summary>
    public static T Edit<T>(string path, Func<AuthFileDocument, T> edit)
    {
        ArgumentNullException.ThrowIfNull(edit);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using var lockFile = AcquireLock(full + ".lock");
        var doc = File.Exists(full) ? Load(full) : new AuthFileDocument();
        var result = edit(doc);
        Save(full, doc);
        return result;
    }

    private static FileStream AcquireLock(string lockPath)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockPath, OwnerOnly(FileMode.OpenOrCreate, FileAccess.ReadWrite));
            }
            catch (IOException) when (attempt < 100)
            {
                // Waits for another process to release the lock file: real time, not a TimeProvider's (a test clock
                // cannot make that process finish sooner), in a synchronous API called by the CLI and the console.
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>Options of a file only its owner may read and write (mode 600), opened exclusively.</summary>
    private static FileStreamOptions OwnerOnly(FileMode mode, FileAccess access)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    /// <summary>"90d", "12h", "2w", "1y" from now, or an ISO date/time; null with a reason when not understood.</summary>
    public static DateTimeOffset? ParseExpiry(string text, DateTimeOffset now, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        error = null;
        text = text.Trim();
        if (text.Length >= 2 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= 100_000)
        {
            TimeSpan? span = char.ToLowerInvariant(text[^1]) switch
            {
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                'w' => TimeSpan.FromDays(7 * n),
                'y' => TimeSpan.FromDays(365 * n),
                _ => null,
            };
            if (span is { } s && n <= 1000)
            {
                return now + s;
            }
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            if (at <= now)
            {
                error = $"expiry \"{text}\" is in the past";
                return null;
            }

            return at;
        }

        error = $"expiry \"{text}\": want a duration such as 90d, 12h, 2w, 1y (at most 1000 units) or a date such as 2027-06-30";
        return null;
    }
}

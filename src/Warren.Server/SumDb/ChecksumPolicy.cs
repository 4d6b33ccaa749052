using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Warren.Core.Modules;
using Warren.Core.SumDb;
using Warren.Server.Configuration;

namespace Warren.Server.SumDb;

/// <summary>How a module's hashes are checked before it is stored.</summary>
public enum ChecksumMode
{
    /// <summary>Not checked (GONOSUMDB semantics), and not logged in the hosted database.</summary>
    Skip,

    /// <summary>Checked against the configured checksum database (sum.golang.org by default).</summary>
    SumDb,

    /// <summary>Checked against the hosted database: the first hashes seen are logged, later ones must equal them.</summary>
    Hosted,
}

/// <summary>One "GLOBS=MODE" entry of a policy.</summary>
public sealed record ChecksumRule(string Patterns, ChecksumMode Mode);

/// <summary>What happens to one module path: how it is checked, whether the hosted database logs it, and whether its
/// path may be sent to the public checksum database at all.</summary>
public readonly record struct ChecksumDecision(ChecksumMode Mode, bool LogInHosted, bool IsPrivate);

/// <summary>Resolves the checksum policy of module paths from the options: explicit rules first, then the
/// GONOSUMDB/GOPRIVATE defaults. A private path (GOPRIVATE or GONOSUMDB) is never checked against the public
/// database, whatever a rule says.</summary>
public sealed class ChecksumPolicy
{
    private readonly IReadOnlyList<ChecksumRule> _rules;
    private readonly string _private;
    private readonly string _hostedPatterns;

    public ChecksumPolicy(IOptions<WarrenOptions> options)
    {
        var o = options.Value;
        var sumdb = o.SumDb is null ? null : SumDbConfig.TryParse(o.SumDb, out _);
        HasSumDb = sumdb is not null;
        HasHosted = !string.IsNullOrEmpty(o.HostedSumDb);
        _private = string.Join(',', new[] { o.Private, o.NoSumDb }.Where(p => !string.IsNullOrWhiteSpace(p)));
        _hostedPatterns = o.HostedSumDbPatterns ?? "";
        _rules = TryParseRules(o.SumDbPolicy ?? "", out var rules, out _) ? rules : [];
    }

    /// <summary>Whether a public checksum database is configured.</summary>
    public bool HasSumDb { get; }

    /// <summary>Whether this server hosts a checksum database.</summary>
    public bool HasHosted { get; }

    /// <summary>Whether the path matches GOPRIVATE or GONOSUMDB: it must never reach the public database.</summary>
    public bool IsPrivate(string modulePath) => _private.Length > 0 && ModulePatterns.MatchPrefixPatterns(_private, modulePath);

    public ChecksumDecision Decide(string modulePath)
    {
        bool isPrivate = IsPrivate(modulePath);
        ChecksumMode? mode = null;
        foreach (var rule in _rules)
        {
            if (ModulePatterns.MatchPrefixPatterns(rule.Patterns, modulePath))
            {
                mode = rule.Mode;
                break;
            }
        }

        mode ??= isPrivate || !HasSumDb
            ? (HasHosted ? ChecksumMode.Hosted : ChecksumMode.Skip)
            : ChecksumMode.SumDb;
        if (mode == ChecksumMode.SumDb && (isPrivate || !HasSumDb))
        {
            mode = HasHosted ? ChecksumMode.Hosted : ChecksumMode.Skip;
        }

        if (mode == ChecksumMode.Hosted && !HasHosted)
        {
            mode = ChecksumMode.Skip;
        }

        bool log = HasHosted && mode != ChecksumMode.Skip &&
                   (_hostedPatterns.Length == 0 || ModulePatterns.MatchPrefixPatterns(_hostedPatterns, modulePath));
        if (mode == ChecksumMode.Hosted && !log)
        {
            // Outside the hosted patterns there is nothing to check against.
            mode = ChecksumMode.Skip;
        }

        return new ChecksumDecision(mode.Value, log, isPrivate);
    }

    /// <summary>Parses "GLOBS=MODE;GLOBS=MODE" (modes: sumdb, hosted, skip, off as skip).</summary>
    public static bool TryParseRules(string text, out IReadOnlyList<ChecksumRule> rules, [NotNullWhen(false)] out string? error)
    {
        var list = new List<ChecksumRule>();
        rules = list;
        error = null;
        foreach (var entry in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = entry.LastIndexOf('=');
            if (eq <= 0)
            {
                error = $"\"{entry}\": want GLOBS=MODE";
                return false;
            }

            var patterns = entry[..eq].Trim();
            var modeText = entry[(eq + 1)..].Trim();
            if (ModulePatterns.Validate(patterns) is { } patternError)
            {
                error = $"\"{patterns}\": {patternError}";
                return false;
            }

            ChecksumMode? mode = modeText switch
            {
                "sumdb" => ChecksumMode.SumDb,
                "hosted" => ChecksumMode.Hosted,
                "skip" or "off" => ChecksumMode.Skip,
                _ => null,
            };
            if (mode is null)
            {
                error = $"\"{modeText}\": the mode must be sumdb, hosted or skip";
                return false;
            }

            list.Add(new ChecksumRule(patterns, mode.Value));
        }

        return true;
    }
}

/// <summary>Creates and reads the key files of a hosted checksum database.</summary>
public static class HostedSumDbKey
{
    /// <summary>Whether name can name a hosted database: a note signer name that is also a sumdb name and a file name.</summary>
    public static bool IsValidName(string name) =>
        NoteKeys.IsValidName(name) && SumDbConfig.IsValidName(name) && !name.Contains('/', StringComparison.Ordinal);

    /// <summary>Generates a key pair and writes DIR/NAME.signer (mode 600, the secret) and DIR/NAME.verifier (the
    /// verifier key as GOSUMDB takes it). Refuses to overwrite either file.</summary>
    /// <returns>The paths written and the verifier key.</returns>
    /// <exception cref="ArgumentException">The name is not valid.</exception>
    /// <exception cref="IOException">A file exists already or cannot be written.</exception>
    public static (string SignerFile, string VerifierFile, string VerifierKey) Generate(string name, string directory)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"invalid checksum database name \"{name}\": want a host name such as sum.example.com", nameof(name));
        }

        Directory.CreateDirectory(directory);
        var signerFile = Path.Combine(directory, name + ".signer");
        var verifierFile = Path.Combine(directory, name + ".verifier");
        foreach (var file in new[] { signerFile, verifierFile })
        {
            if (File.Exists(file))
            {
                throw new IOException($"{file} exists already; not overwriting a key");
            }
        }

        var (signer, verifier) = NoteKeys.GenerateKey(name);
        var secret = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            secret.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(signerFile, secret))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(signer + "\n");
        }

        File.WriteAllText(verifierFile, verifier + "\n");
        return (signerFile, verifierFile, verifier);
    }

    /// <summary>Loads and parses a signer key file. It must not be readable by group or others (it is a secret).</summary>
    public static bool TryLoad(string path, [NotNullWhen(true)] out NoteSigner? signer, [NotNullWhen(false)] out string? error)
    {
        signer = null;
        if (!File.Exists(path))
        {
            error = $"signer key file {path} does not exist (create one with: warren sumdb keygen NAME --out DIR)";
            return false;
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                error = $"signer key file {path} is accessible to other users (mode {Convert.ToString((int)mode, 8)}); chmod 600 it";
                return false;
            }
        }

        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"signer key file {path}: {e.Message}";
            return false;
        }

        if (!NoteSigner.TryParse(text, out signer, out var parseError))
        {
            error = $"signer key file {path}: {parseError}";
            return false;
        }

        error = null;
        return true;
    }
}

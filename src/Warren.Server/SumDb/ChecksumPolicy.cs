using System.Diagnostics.CodeAnalysis;
using Warren.Core.SumDb;
using Warren.Protocol;

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

    public ChecksumPolicy(IOptions<WarrenOptions> options, ProtocolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var o = options.Value;
        HasSumDb = settings.SumDb is not null;
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

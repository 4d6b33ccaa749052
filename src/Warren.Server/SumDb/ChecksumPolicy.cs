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


/// <summary>What happens to one module path: how it is checked, whether the hosted database logs it, and whether its
/// path may be sent to the public checksum database at all.</summary>
public readonly record struct ChecksumDecision(ChecksumMode Mode, bool LogInHosted, bool IsPrivate);

/// <summary>Resolves the checksum policy of module paths from the options: explicit rules first, then the
/// GONOSUMDB/GOPRIVATE defaults. A private path (GOPRIVATE or GONOSUMDB) is never checked against the public
/// database, whatever a rule says.</summary>
public sealed class ChecksumPolicy
{
    private const string ModeNames = "sumdb, hosted or skip";

    private readonly IReadOnlyList<PatternRule<ChecksumMode>> _rules;
    private readonly string _private;
    private readonly string _hostedPatterns;

    /// <param name="rules">The rules of --sumdb-policy, parsed once at start-up (<see cref="Parse"/>).</param>
    public ChecksumPolicy(IReadOnlyList<PatternRule<ChecksumMode>> rules, IOptions<WarrenOptions> options, ProtocolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var o = options.Value;
        HasSumDb = settings.SumDb is not null;
        HasHosted = !string.IsNullOrEmpty(o.HostedSumDb);
        _private = string.Join(',', new[] { o.Private, o.NoSumDb }.Where(p => !string.IsNullOrWhiteSpace(p)));
        _hostedPatterns = o.HostedSumDbPatterns ?? "";
        _rules = rules;
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
        var mode = PatternRules.FirstMatch(_rules, modulePath);
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

    /// <summary>"GLOBS=MODE;GLOBS=MODE" (modes: sumdb, hosted, skip, off as skip; null: none) parsed: its rules, or the
    /// error the options validator reports.</summary>
    public static PatternRuleSetting<ChecksumMode> Parse(string? text) => PatternRules.Parse(text, ModeOf, ModeNames);

    private static ChecksumMode? ModeOf(string name) => name switch
    {
        "sumdb" => ChecksumMode.SumDb,
        "hosted" => ChecksumMode.Hosted,
        "skip" or "off" => ChecksumMode.Skip,
        _ => null,
    };
}

using System.Diagnostics.CodeAnalysis;

namespace Warren.Server.Configuration;

/// <summary>One "GLOBS=MODE" entry of a per-pattern setting (--sumdb-policy, --download-mode).</summary>
public sealed record PatternRule<TMode>(string Patterns, TMode Mode)
    where TMode : struct;

/// <summary>A per-pattern setting parsed once at start-up: its rules, or the error that makes it unusable (then no
/// rules; the options validator reports the error and the server does not start).</summary>
public sealed record PatternRuleSetting<TMode>(IReadOnlyList<PatternRule<TMode>> Rules, string? Error)
    where TMode : struct;

/// <summary>Parses per-pattern settings written "GLOBS=MODE;GLOBS=MODE" (GLOBS comma-separated, GOPRIVATE syntax;
/// first match wins) and finds the rule for a module path.</summary>
public static class PatternRules
{
    /// <summary>Parses the text; modeOf turns a mode's name into its value (null when unknown), modes lists the valid
    /// names for the error. An empty text gives no rules.</summary>
    public static bool TryParse<TMode>(string text, Func<string, TMode?> modeOf, string modes, out IReadOnlyList<PatternRule<TMode>> rules,
        [NotNullWhen(false)] out string? error)
        where TMode : struct
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(modeOf);
        var list = new List<PatternRule<TMode>>();
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

            if (modeOf(modeText) is not { } mode)
            {
                error = $"\"{modeText}\": the mode must be {modes}";
                return false;
            }

            list.Add(new PatternRule<TMode>(patterns, mode));
        }

        return true;
    }

    /// <summary>Parses the text (null or empty: no rules) into its rules, or its error.</summary>
    public static PatternRuleSetting<TMode> Parse<TMode>(string? text, Func<string, TMode?> modeOf, string modes)
        where TMode : struct =>
        TryParse(text ?? "", modeOf, modes, out var rules, out var error) ? new(rules, null) : new([], error);

    /// <summary>The mode of the first rule whose globs match the module path, or null.</summary>
    public static TMode? FirstMatch<TMode>(IReadOnlyList<PatternRule<TMode>> rules, string modulePath)
        where TMode : struct
    {
        ArgumentNullException.ThrowIfNull(rules);
        foreach (var rule in rules)
        {
            if (ModulePatterns.MatchPrefixPatterns(rule.Patterns, modulePath))
            {
                return rule.Mode;
            }
        }

        return null;
    }
}

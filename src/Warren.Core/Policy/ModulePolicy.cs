using System.Globalization;
using Warren.Core.Modules;

namespace Warren.Core.Policy;

/// <summary>Which part of a policy decided.</summary>
public enum PolicyRuleKind
{
    /// <summary>No rule applied: allowed.</summary>
    None,

    /// <summary>A deny rule matched.</summary>
    Deny,

    /// <summary>Allowlist mode: an allow rule matched (allowed), or none did (denied).</summary>
    Allow,

    /// <summary>The version is affected by an advisory of the vulnerability database.</summary>
    Vulnerable,

    /// <summary>The module's latest go.mod retracts the version.</summary>
    Retracted,
}

/// <summary>One deny or allow rule: GOPRIVATE-style module globs, a version range, a reason, where it was written.</summary>
public sealed record PolicyRule(PolicyRuleKind Kind, int Index, string Module, VersionRange Versions, string? Reason, int Line)
{
    /// <summary>"deny[2] (line 14)" for logs.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{(Kind == PolicyRuleKind.Deny ? "deny" : "allow")}[{Index}] (line {Line})");
}

/// <summary>The outcome of the rules for one version: allowed or denied, by which kind of rule, and the rule itself
/// when one matched. A value type: evaluating an allowed version allocates nothing.</summary>
public readonly record struct PolicyVerdict(bool Denied, PolicyRuleKind Kind, PolicyRule? Rule)
{
    public static PolicyVerdict Allowed { get; } = new(false, PolicyRuleKind.None, null);
}

/// <summary>A validated, compiled policy (see <see cref="PolicyParser"/>): deny rules, an optional allow list
/// (allowlist mode), and whether vulnerable or retracted versions are denied. Immutable and thread-safe; the rules
/// are indexed by their literal module globs so that evaluation costs a few dictionary probes, not one match per rule.</summary>
public sealed class ModulePolicy
{
    private readonly RuleIndex _deny;
    private readonly RuleIndex? _allow;

    internal ModulePolicy(IReadOnlyList<PolicyRule> deny, IReadOnlyList<PolicyRule>? allow, bool denyVulnerable, IReadOnlyCollection<string> exceptions, bool denyRetracted)
    {
        DenyRules = deny;
        AllowRules = allow;
        DenyVulnerable = denyVulnerable;
        VulnerabilityExceptions = new HashSet<string>(exceptions, StringComparer.OrdinalIgnoreCase);
        DenyRetracted = denyRetracted;
        _deny = new RuleIndex(deny);
        _allow = allow is null ? null : new RuleIndex(allow);
    }

    /// <summary>A policy that allows everything.</summary>
    public static ModulePolicy Empty { get; } = new([], null, false, [], false);

    public IReadOnlyList<PolicyRule> DenyRules { get; }

    /// <summary>The allow list; null when not in allowlist mode.</summary>
    public IReadOnlyList<PolicyRule>? AllowRules { get; }

    public bool DenyVulnerable { get; }

    /// <summary>Advisory IDs (or aliases) whose versions stay allowed under <see cref="DenyVulnerable"/>.</summary>
    public IReadOnlySet<string> VulnerabilityExceptions { get; }

    public bool DenyRetracted { get; }

    /// <summary>True when the policy denies nothing.</summary>
    public bool IsEmpty => DenyRules.Count == 0 && AllowRules is null && !DenyVulnerable && !DenyRetracted;

    /// <summary>A one-line summary for the log.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{DenyRules.Count} deny rules, {(AllowRules is null ? "no allow list" : AllowRules.Count + " allow rules (allowlist mode)")}, vulnerable {(DenyVulnerable ? "denied" + (VulnerabilityExceptions.Count > 0 ? $" ({VulnerabilityExceptions.Count} exceptions)" : "") : "allowed")}, retracted {(DenyRetracted ? "denied" : "allowed")}");

    /// <summary>The deny rules, then the allow list: the first deny rule (in file order) matching the version, else
    /// in allowlist mode the first allow rule matching it (allowed) or a denial; else allowed.</summary>
    public PolicyVerdict EvaluateRules(string modulePath, string version)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(version);
        if (_deny.FirstMatch(modulePath, version) is { } deny)
        {
            return new PolicyVerdict(true, PolicyRuleKind.Deny, deny);
        }

        if (_allow is not null)
        {
            return _allow.FirstMatch(modulePath, version) is { } allow
                ? new PolicyVerdict(false, PolicyRuleKind.Allow, allow)
                : new PolicyVerdict(true, PolicyRuleKind.Allow, null);
        }

        return PolicyVerdict.Allowed;
    }

    /// <summary>Whether an advisory with this ID and these aliases is excepted from <see cref="DenyVulnerable"/>.</summary>
    public bool IsExcepted(string id, IReadOnlyList<string> aliases)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(aliases);
        if (VulnerabilityExceptions.Count == 0)
        {
            return false;
        }

        if (VulnerabilityExceptions.Contains(id))
        {
            return true;
        }

        foreach (var alias in aliases)
        {
            if (VulnerabilityExceptions.Contains(alias))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Rules indexed by module glob: literal globs in one dictionary per number of path elements they cover
    /// (probed with a slice of the module path, no string made), globs with wildcards in a list.</summary>
    private sealed class RuleIndex
    {
        private readonly (int Slashes, Dictionary<string, PolicyRule[]>.AlternateLookup<ReadOnlySpan<char>> Lookup)[] _literal;

        // Globs with wildcards whose first path element is literal ("github.com/org/*"), by that element, each list in
        // rule order; the others ("*.corp.example/…") in one list. Every entry carries the literal text before the
        // glob's first wildcard and after its last, which any match must start and end with: most entries are refused
        // by those two comparisons, without running the matcher.
        private readonly Dictionary<string, WildcardRule[]>.AlternateLookup<ReadOnlySpan<char>> _wildcardByHost;
        private readonly WildcardRule[] _wildcard;

        public RuleIndex(IReadOnlyList<PolicyRule> rules)
        {
            var literal = new SortedDictionary<int, Dictionary<string, List<PolicyRule>>>();
            var byHost = new Dictionary<string, List<WildcardRule>>(StringComparer.Ordinal);
            var wildcard = new List<WildcardRule>();
            foreach (var rule in rules)
            {
                foreach (var glob in ModulePatterns.SplitGlobs(rule.Module))
                {
                    var slashes = ModulePatterns.CountSlashes(glob);
                    if (glob.AsSpan().IndexOfAny("*?[\\") < 0)
                    {
                        if (!literal.TryGetValue(slashes, out var byGlob))
                        {
                            literal[slashes] = byGlob = new Dictionary<string, List<PolicyRule>>(StringComparer.Ordinal);
                        }

                        if (!byGlob.TryGetValue(glob, out var list))
                        {
                            byGlob[glob] = list = [];
                        }

                        if (!list.Contains(rule))
                        {
                            list.Add(rule);
                        }
                    }
                    else
                    {
                        var entry = new WildcardRule(glob, slashes, rule);
                        var host = glob.IndexOf('/', StringComparison.Ordinal);
                        if (host >= 0 && host < entry.Prefix.Length)
                        {
                            var key = glob[..host];
                            if (!byHost.TryGetValue(key, out var list))
                            {
                                byHost[key] = list = [];
                            }

                            list.Add(entry);
                        }
                        else
                        {
                            wildcard.Add(entry);
                        }
                    }
                }
            }

            _literal = literal.Select(kv => (kv.Key, kv.Value.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal)
                .GetAlternateLookup<ReadOnlySpan<char>>())).ToArray();
            _wildcardByHost = byHost.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
            _wildcard = [.. wildcard];
        }

        /// <summary>The matching rule with the lowest index whose range holds version, or null.</summary>
        public PolicyRule? FirstMatch(string modulePath, string version)
        {
            PolicyRule? best = null;
            foreach (var (slashes, lookup) in _literal)
            {
                var end = PrefixEnd(modulePath, slashes);
                if (end < 0)
                {
                    break; // the module path has fewer elements; the next entries need even more
                }

                if (lookup.TryGetValue(modulePath.AsSpan(0, end), out var candidates))
                {
                    foreach (var rule in candidates)
                    {
                        if ((best is null || rule.Index < best.Index) && rule.Versions.Contains(version))
                        {
                            best = rule;
                            break; // candidates are in index order
                        }
                    }
                }
            }

            var first = modulePath.IndexOf('/', StringComparison.Ordinal);
            if (_wildcardByHost.Dictionary.Count > 0
                && _wildcardByHost.TryGetValue(modulePath.AsSpan(0, first < 0 ? modulePath.Length : first), out var byHost))
            {
                best = FirstWildcard(byHost, modulePath, version, best);
            }

            return FirstWildcard(_wildcard, modulePath, version, best);
        }

        /// <summary>The first entry (in rule order, below best's index) matching the module path and holding version,
        /// else best.</summary>
        private static PolicyRule? FirstWildcard(WildcardRule[] entries, string modulePath, string version, PolicyRule? best)
        {
            foreach (var entry in entries)
            {
                if (best is not null && entry.Rule.Index >= best.Index)
                {
                    break; // entries are in rule order
                }

                if (entry.Matches(modulePath) && entry.Rule.Versions.Contains(version))
                {
                    return entry.Rule;
                }
            }

            return best;
        }

        /// <summary>A glob with wildcards, the literal text before its first wildcard and after its last.</summary>
        private sealed class WildcardRule
        {
            public WildcardRule(string glob, int slashes, PolicyRule rule)
            {
                Glob = glob;
                Slashes = slashes;
                Rule = rule;
                var first = glob.AsSpan().IndexOfAny("*?[\\");
                var last = glob.AsSpan().LastIndexOfAny("*?[]\\");
                Prefix = glob[..first];
                Suffix = glob[(last + 1)..];
            }

            public string Glob { get; }

            public int Slashes { get; }

            public PolicyRule Rule { get; }

            /// <summary>The text before the first wildcard, escape or class: every match starts with it.</summary>
            public string Prefix { get; }

            /// <summary>The text after the last wildcard, escape or class: every match ends with it.</summary>
            public string Suffix { get; }

            /// <summary>Whether the glob matches the first Slashes+1 elements of the module path (GOPRIVATE-style).</summary>
            public bool Matches(string modulePath)
            {
                var end = PrefixEnd(modulePath, Slashes);
                if (end < 0)
                {
                    return false;
                }

                var part = modulePath.AsSpan(0, end);
                return part.StartsWith(Prefix, StringComparison.Ordinal) && part.EndsWith(Suffix, StringComparison.Ordinal)
                    && ModulePatterns.Match(Glob, part) == ModulePatterns.MatchResult.Match;
            }
        }

        /// <summary>The length of the first slashes+1 path elements of path, or -1 when it has fewer.</summary>
        private static int PrefixEnd(string path, int slashes)
        {
            var n = slashes;
            for (var i = 0; i < path.Length; i++)
            {
                if (path[i] == '/')
                {
                    if (n == 0)
                    {
                        return i;
                    }

                    n--;
                }
            }

            return n == 0 ? path.Length : -1;
        }
    }
}

using Warren.Core.Modules;

namespace Warren.Core.Policy;

/// <summary>A set of module versions: every version ("" or "*"), one exact version ("v1.2.3"), or the versions that
/// satisfy every comparison of a space-separated list ("&lt;v1.2.3", "&gt;=v2.0.0 &lt;v2.1.4"). Versions are compared
/// by semantic-version precedence (build metadata such as +incompatible ignored, as the go command does); pseudo-versions
/// fall where their base version puts them.</summary>
public sealed class VersionRange
{
    private readonly Bound[] _bounds;

    private VersionRange(string text, Bound[] bounds)
    {
        Text = text;
        _bounds = bounds;
    }

    /// <summary>Every version.</summary>
    public static VersionRange Any { get; } = new("*", []);

    /// <summary>The range as written.</summary>
    public string Text { get; }

    public bool IsAny => _bounds.Length == 0;

    /// <summary>Whether version (a valid semantic version) is in the range.</summary>
    public bool Contains(string version)
    {
        foreach (var bound in _bounds)
        {
            var c = SemVer.Compare(version, bound.Version);
            var ok = bound.Op switch
            {
                Op.Less => c < 0,
                Op.LessOrEqual => c <= 0,
                Op.Greater => c > 0,
                Op.GreaterOrEqual => c >= 0,
                _ => c == 0,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses a range; null with the problem when it is malformed or matches no version.</summary>
    public static VersionRange? TryParse(string? text, out string? problem)
    {
        problem = null;
        var trimmed = (text ?? "").Trim();
        if (trimmed.Length == 0 || trimmed == "*")
        {
            return Any;
        }

        var tokens = trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var bounds = new List<Bound>();
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            var (op, length) = token switch
            {
                _ when token.StartsWith("<=", StringComparison.Ordinal) => (Op.LessOrEqual, 2),
                _ when token.StartsWith(">=", StringComparison.Ordinal) => (Op.GreaterOrEqual, 2),
                _ when token.StartsWith('<') => (Op.Less, 1),
                _ when token.StartsWith('>') => (Op.Greater, 1),
                _ when token.StartsWith('=') => (Op.Equal, 1),
                _ => (Op.Equal, 0),
            };
            var version = token[length..];
            if (version.Length == 0 && length > 0 && i + 1 < tokens.Length)
            {
                version = tokens[++i]; // ">= v1.2.3"
            }

            if (version.Length == 0)
            {
                problem = $"bad version range \"{trimmed}\": \"{token}\" has no version";
                return null;
            }

            if (!SemVer.IsValid(version))
            {
                problem = $"bad version range \"{trimmed}\": \"{version}\" is not a semantic version (want vMAJOR.MINOR.PATCH, e.g. v1.2.3)";
                return null;
            }

            if (SemVer.Build(version).Length > 0 && !SemVer.IsIncompatible(version))
            {
                problem = $"bad version range \"{trimmed}\": \"{version}\" has build metadata, which version comparison ignores";
                return null;
            }

            bounds.Add(new Bound(op, version));
        }

        if (bounds.Count > 1 && bounds.Any(b => b.Op == Op.Equal))
        {
            problem = $"bad version range \"{trimmed}\": an exact version cannot be combined with other comparisons";
            return null;
        }

        if (IsEmpty(bounds))
        {
            problem = $"bad version range \"{trimmed}\": no version satisfies it";
            return null;
        }

        return new VersionRange(trimmed, [.. bounds]);
    }

    public override string ToString() => Text;

    /// <summary>Whether the lowest upper bound is below the highest lower bound.</summary>
    private static bool IsEmpty(List<Bound> bounds)
    {
        Bound? lower = null;
        Bound? upper = null;
        foreach (var b in bounds)
        {
            if (b.Op is Op.Greater or Op.GreaterOrEqual)
            {
                if (lower is null || SemVer.Compare(b.Version, lower.Value.Version) is var c && (c > 0 || (c == 0 && b.Op == Op.Greater)))
                {
                    lower = b;
                }
            }
            else if (b.Op is Op.Less or Op.LessOrEqual)
            {
                if (upper is null || SemVer.Compare(b.Version, upper.Value.Version) is var c && (c < 0 || (c == 0 && b.Op == Op.Less)))
                {
                    upper = b;
                }
            }
        }

        if (lower is not { } lo || upper is not { } hi)
        {
            return false;
        }

        var cmp = SemVer.Compare(lo.Version, hi.Version);
        return cmp > 0 || (cmp == 0 && (lo.Op == Op.Greater || hi.Op == Op.Less));
    }

    private enum Op
    {
        Equal,
        Less,
        LessOrEqual,
        Greater,
        GreaterOrEqual,
    }

    private readonly record struct Bound(Op Op, string Version);
}

using System.Buffers;
using System.Text;

namespace Warren.Core.Modules;

/// <summary>GOPRIVATE/GONOPROXY/GONOSUMDB globs (module.MatchPrefixPatterns).</summary>
public static class ModulePatterns
{
    /// <summary>path.ErrBadPattern's text.</summary>
    public const string BadPatternMessage = "syntax error in pattern";

    /// <summary>True if any comma-separated glob matches a path-element prefix of target: a glob with N slashes is
    /// matched (path.Match syntax) against the first N+1 elements of target. Empty and malformed globs are ignored, as
    /// is one trailing slash on a glob.</summary>
    public static bool MatchPrefixPatterns(string globs, string target)
    {
        ArgumentNullException.ThrowIfNull(globs);
        ArgumentNullException.ThrowIfNull(target);
        foreach (string glob in SplitGlobs(globs))
        {
            if (MatchesPrefix(glob, CountSlashes(glob), target))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>null when every glob is well formed (path.Match syntax), else the reason, naming the first bad glob.</summary>
    public static string? Validate(string globs)
    {
        ArgumentNullException.ThrowIfNull(globs);
        foreach (string glob in SplitGlobs(globs))
        {
            if (!IsWellFormed(glob))
            {
                return $"invalid pattern {GoQuoting.Quote(glob)}: {BadPatternMessage}";
            }
        }

        return null;
    }

    /// <summary>path.Match: whether name matches the shell pattern. '*' and '?' never match '/'.</summary>
    /// <exception cref="FormatException">The pattern is malformed (path.ErrBadPattern).</exception>
    public static bool PathMatch(string pattern, string name)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(name);
        return Match(pattern, name) switch
        {
            MatchResult.Match => true,
            MatchResult.NoMatch => false,
            _ => throw new FormatException($"{BadPatternMessage}: {GoQuoting.Quote(pattern)}"),
        };
    }

    /// <summary>Whether pattern is valid path.Match syntax.</summary>
    public static bool IsWellFormed(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return Match(pattern, "") != MatchResult.BadPattern;
    }

    /// <summary>The globs of a comma-separated list that take part in matching: one trailing slash removed, empty ones
    /// dropped (malformed ones are kept).</summary>
    internal static IEnumerable<string> SplitGlobs(string globs)
    {
        foreach (string part in globs.Split(','))
        {
            string glob = part.EndsWith('/') ? part[..^1] : part;
            if (glob.Length > 0)
            {
                yield return glob;
            }
        }
    }

    internal static int CountSlashes(string glob) => glob.AsSpan().Count('/');

    /// <summary>Matches glob against the first slashes+1 path elements of target; false if target has fewer.</summary>
    internal static bool MatchesPrefix(string glob, int slashes, string target)
    {
        int n = slashes;
        int end = target.Length;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == '/')
            {
                if (n == 0)
                {
                    end = i;
                    break;
                }

                n--;
            }
        }

        if (n > 0)
        {
            return false; // not enough path elements
        }

        return Match(glob, target.AsSpan(0, end)) == MatchResult.Match;
    }

    internal enum MatchResult
    {
        NoMatch,
        Match,
        BadPattern,
    }

    /// <summary>path.Match. A malformed pattern never matches: the whole pattern is checked before "no match" is returned.</summary>
    internal static MatchResult Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        ReadOnlySpan<char> chunk = default;
        ReadOnlySpan<char> rest = default;
        while (!pattern.IsEmpty)
        {
            (bool star, int start, int end) = ScanChunk(pattern);
            chunk = pattern[start..end];
            pattern = pattern[end..];
            if (star && chunk.IsEmpty)
            {
                // A trailing star matches the rest of name, unless it crosses a slash.
                return name.Contains('/') ? MatchResult.NoMatch : MatchResult.Match;
            }

            MatchResult r = MatchChunk(chunk, name, out rest);
            if (r == MatchResult.Match && (rest.IsEmpty || !pattern.IsEmpty))
            {
                name = rest;
                continue;
            }

            if (r == MatchResult.BadPattern)
            {
                return r;
            }

            if (star)
            {
                if (TryMatchAfterStar(chunk, ref name, lastChunk: pattern.IsEmpty, out bool bad))
                {
                    continue;
                }

                if (bad)
                {
                    return MatchResult.BadPattern;
                }
            }

            // No match: report a malformed remainder before saying so.
            while (!pattern.IsEmpty)
            {
                (_, int chunkStart, int chunkEnd) = ScanChunk(pattern);
                chunk = pattern[chunkStart..chunkEnd];
                pattern = pattern[chunkEnd..];
                if (MatchChunk(chunk, ReadOnlySpan<char>.Empty, out _) == MatchResult.BadPattern)
                {
                    return MatchResult.BadPattern;
                }
            }

            return MatchResult.NoMatch;
        }

        return name.IsEmpty ? MatchResult.Match : MatchResult.NoMatch;
    }

    /// <summary>Lets the star swallow 1, 2, ... characters (never a slash) before chunk matches.</summary>
    private static bool TryMatchAfterStar(ReadOnlySpan<char> chunk, ref ReadOnlySpan<char> name, bool lastChunk, out bool bad)
    {
        bad = false;
        for (int i = 0; i < name.Length && name[i] != '/'; i++)
        {
            MatchResult r = MatchChunk(chunk, name[(i + 1)..], out ReadOnlySpan<char> rest);
            if (r == MatchResult.Match)
            {
                if (lastChunk && !rest.IsEmpty)
                {
                    continue; // the last chunk must use up name
                }

                name = rest;
                return true;
            }

            if (r == MatchResult.BadPattern)
            {
                bad = true;
                return false;
            }
        }

        return false;
    }

    /// <summary>Finds the next chunk of pattern: a run of stars (Star), then pattern[Start..End], everything up to the
    /// next star outside a character class.</summary>
    private static (bool Star, int Start, int End) ScanChunk(ReadOnlySpan<char> pattern)
    {
        int start = 0;
        while (start < pattern.Length && pattern[start] == '*')
        {
            start++;
        }

        bool inRange = false;
        int i;
        for (i = start; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\')
            {
                // A trailing backslash is reported by MatchChunk.
                if (i + 1 < pattern.Length)
                {
                    i++;
                }
            }
            else if (c == '[')
            {
                inRange = true;
            }
            else if (c == ']')
            {
                inRange = false;
            }
            else if (c == '*' && !inRange)
            {
                break;
            }
        }

        return (start > 0, start, i);
    }

    /// <summary>Whether chunk (literals, classes and '?', no stars) matches the start of s; rest is what follows. After a
    /// mismatch the rest of the chunk is still checked for well-formedness.</summary>
    private static MatchResult MatchChunk(ReadOnlySpan<char> chunk, ReadOnlySpan<char> s, out ReadOnlySpan<char> rest)
    {
        rest = default;
        bool failed = false;
        while (!chunk.IsEmpty)
        {
            if (!failed && s.IsEmpty)
            {
                failed = true;
            }

            switch (chunk[0])
            {
                case '[':
                {
                    int r = 0;
                    if (!failed)
                    {
                        Rune.DecodeFromUtf16(s, out Rune decoded, out int used);
                        r = decoded.Value;
                        s = s[used..];
                    }

                    chunk = chunk[1..];
                    bool negated = false;
                    if (!chunk.IsEmpty && chunk[0] == '^')
                    {
                        negated = true;
                        chunk = chunk[1..];
                    }

                    bool match = false;
                    int ranges = 0;
                    while (true)
                    {
                        if (!chunk.IsEmpty && chunk[0] == ']' && ranges > 0)
                        {
                            chunk = chunk[1..];
                            break;
                        }

                        if (!TryGetEscaped(ref chunk, out int lo))
                        {
                            return MatchResult.BadPattern;
                        }

                        int hi = lo;
                        if (chunk[0] == '-')
                        {
                            chunk = chunk[1..];
                            if (!TryGetEscaped(ref chunk, out hi))
                            {
                                return MatchResult.BadPattern;
                            }
                        }

                        if (lo <= r && r <= hi)
                        {
                            match = true;
                        }

                        ranges++;
                    }

                    if (match == negated)
                    {
                        failed = true;
                    }

                    break;
                }

                case '?':
                    if (!failed)
                    {
                        if (s[0] == '/')
                        {
                            failed = true;
                        }

                        Rune.DecodeFromUtf16(s, out _, out int used);
                        s = s[used..];
                    }

                    chunk = chunk[1..];
                    break;

                case '\\':
                    chunk = chunk[1..];
                    if (chunk.IsEmpty)
                    {
                        return MatchResult.BadPattern;
                    }

                    MatchLiteral(ref chunk, ref s, ref failed);
                    break;

                default:
                    MatchLiteral(ref chunk, ref s, ref failed);
                    break;
            }
        }

        if (failed)
        {
            return MatchResult.NoMatch;
        }

        rest = s;
        return MatchResult.Match;
    }

    private static void MatchLiteral(ref ReadOnlySpan<char> chunk, ref ReadOnlySpan<char> s, ref bool failed)
    {
        if (!failed)
        {
            if (chunk[0] != s[0])
            {
                failed = true;
            }

            s = s[1..];
        }

        chunk = chunk[1..];
    }

    /// <summary>One possibly escaped character of a class; fails on '-', ']', a dangling escape, a broken surrogate, or
    /// when nothing would follow it.</summary>
    private static bool TryGetEscaped(ref ReadOnlySpan<char> chunk, out int r)
    {
        r = 0;
        if (chunk.IsEmpty || chunk[0] is '-' or ']')
        {
            return false;
        }

        if (chunk[0] == '\\')
        {
            chunk = chunk[1..];
            if (chunk.IsEmpty)
            {
                return false;
            }
        }

        if (Rune.DecodeFromUtf16(chunk, out Rune decoded, out int used) != OperationStatus.Done)
        {
            return false;
        }

        r = decoded.Value;
        chunk = chunk[used..];
        return !chunk.IsEmpty;
    }
}

/// <summary>A parsed GOPRIVATE-style glob list, for matching many module paths against the same setting.
/// Matches exactly as <see cref="ModulePatterns.MatchPrefixPatterns"/> does.</summary>
public sealed class GlobList
{
    private readonly (string Glob, int Slashes)[] _globs;

    private GlobList(string text, (string, int)[] globs, string[] malformed)
    {
        Text = text;
        _globs = globs;
        Patterns = Array.ConvertAll(globs, g => g.Item1);
        Malformed = malformed;
    }

    public static GlobList Empty { get; } = new("", [], []);

    /// <summary>Parses a comma-separated list; null or "" gives an empty list. Malformed globs are set aside (they never
    /// match) and listed in <see cref="Malformed"/>.</summary>
    public static GlobList Parse(string? globs)
    {
        if (string.IsNullOrEmpty(globs))
        {
            return Empty;
        }

        var good = new List<(string, int)>();
        var bad = new List<string>();
        foreach (string glob in ModulePatterns.SplitGlobs(globs))
        {
            if (ModulePatterns.IsWellFormed(glob))
            {
                good.Add((glob, ModulePatterns.CountSlashes(glob)));
            }
            else
            {
                bad.Add(glob);
            }
        }

        return new GlobList(globs, [.. good], [.. bad]);
    }

    /// <summary>The text this list was parsed from.</summary>
    public string Text { get; }

    /// <summary>The well-formed globs, trailing slash removed, in order.</summary>
    public IReadOnlyList<string> Patterns { get; }

    /// <summary>Globs that are not valid path.Match syntax (ignored when matching).</summary>
    public IReadOnlyList<string> Malformed { get; }

    public bool IsEmpty => _globs.Length == 0;

    /// <summary>True if some glob matches a path-element prefix of target (module.MatchPrefixPatterns).</summary>
    public bool Matches(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        foreach ((string glob, int slashes) in _globs)
        {
            if (ModulePatterns.MatchesPrefix(glob, slashes, target))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => Text;
}

namespace Warren.Core.Modules;

/// <summary>Go's semantic versions (golang.org/x/mod/semver): "v" prefix, shorthands v1 and v1.2 valid but not canonical.</summary>
/// <remarks>
/// Accepted syntax is vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]: numbers carry no leading zeros, prerelease and build
/// are dot-separated non-empty identifiers over [0-9A-Za-z-], and numeric prerelease identifiers carry no leading zeros.
/// The shorthands vMAJOR and vMAJOR.MINOR take no prerelease or build suffix.
/// All members are allocation-free except where they must return a new substring.
/// </remarks>
public static class SemVer
{
    private const string Incompatible = "+incompatible";

    /// <summary>Offsets of the parts of a version string. Minor/patch lengths of 0 mean "implied 0" (shorthand forms).</summary>
    private readonly struct Parts
    {
        public Parts(int majorEnd, int minorStart, int minorEnd, int patchStart, int patchEnd, int preEnd, int buildEnd) =>
            (MajorEnd, MinorStart, MinorEnd, PatchStart, PatchEnd, PreEnd, BuildEnd) = (majorEnd, minorStart, minorEnd, patchStart, patchEnd, preEnd, buildEnd);

        /// <summary>Major digits are [1, MajorEnd).</summary>
        public int MajorEnd { get; }

        public int MinorStart { get; }

        public int MinorEnd { get; }

        public int PatchStart { get; }

        public int PatchEnd { get; }

        /// <summary>Prerelease (with its '-') is [PatchEnd, PreEnd).</summary>
        public int PreEnd { get; }

        /// <summary>Build (with its '+') is [PreEnd, BuildEnd); BuildEnd is the string length.</summary>
        public int BuildEnd { get; }

        public bool HasMinor => MinorEnd > MinorStart;

        public bool HasPatch => PatchEnd > PatchStart;

        public ReadOnlySpan<char> MajorOf(ReadOnlySpan<char> v) => v[1..MajorEnd];

        public ReadOnlySpan<char> MinorOf(ReadOnlySpan<char> v) => HasMinor ? v[MinorStart..MinorEnd] : "0";

        public ReadOnlySpan<char> PatchOf(ReadOnlySpan<char> v) => HasPatch ? v[PatchStart..PatchEnd] : "0";

        public ReadOnlySpan<char> PrereleaseOf(ReadOnlySpan<char> v) => v[PatchEnd..PreEnd];

        public ReadOnlySpan<char> BuildOf(ReadOnlySpan<char> v) => v[PreEnd..BuildEnd];
    }

    public static bool IsValid(string v) => v is not null && TryParse(v, out _);

    public static bool IsValid(ReadOnlySpan<char> v) => TryParse(v, out _);

    /// <summary>Canonical form (v1 → v1.0.0, build suffix dropped but +incompatible kept), or "" if invalid.</summary>
    /// <remarks>This is module.CanonicalVersion. For semver.Canonical exactly (every build suffix dropped) use <see cref="CanonicalWithoutBuild"/>.</remarks>
    public static string Canonical(string v)
    {
        if (v is null || !TryParse(v, out var p))
        {
            return "";
        }

        if (p.PreEnd != p.BuildEnd)
        {
            var build = p.BuildOf(v);
            return build.SequenceEqual(Incompatible) ? v : v[..p.PreEnd];
        }

        return Expand(v, p);
    }

    /// <summary>semver.Canonical: missing .MINOR/.PATCH filled in, any build suffix (including +incompatible) dropped; "" if invalid.</summary>
    public static string CanonicalWithoutBuild(string v)
    {
        if (v is null || !TryParse(v, out var p))
        {
            return "";
        }

        return p.PreEnd != p.BuildEnd ? v[..p.PreEnd] : Expand(v, p);
    }

    private static string Expand(string v, Parts p)
    {
        if (!p.HasMinor)
        {
            return v + ".0.0";
        }

        return p.HasPatch ? v : v + ".0";
    }

    /// <summary>"v2" for v2.1.0; "" if invalid.</summary>
    public static string Major(string v)
    {
        if (v is null || !TryParse(v, out var p))
        {
            return "";
        }

        return p.MajorEnd == v.Length ? v : v[..p.MajorEnd];
    }

    /// <summary>"v2.1" for v2.1.0 and v2.1; "v2.0" for v2; "" if invalid.</summary>
    public static string MajorMinor(string v)
    {
        if (v is null || !TryParse(v, out var p))
        {
            return "";
        }

        if (!p.HasMinor)
        {
            return v + ".0";
        }

        return p.MinorEnd == v.Length ? v : v[..p.MinorEnd];
    }

    /// <summary>"-pre" part including the dash, or "".</summary>
    public static string Prerelease(string v)
    {
        if (v is null || !TryParse(v, out var p) || p.PreEnd == p.PatchEnd)
        {
            return "";
        }

        return v[p.PatchEnd..p.PreEnd];
    }

    /// <summary>"+build" part including the plus, or "".</summary>
    public static string Build(string v)
    {
        if (v is null || !TryParse(v, out var p) || p.BuildEnd == p.PreEnd)
        {
            return "";
        }

        return v[p.PreEnd..];
    }

    /// <summary>True when v is valid and its build suffix is exactly "+incompatible".</summary>
    public static bool IsIncompatible(string v)
        => v is not null && v.EndsWith(Incompatible, StringComparison.Ordinal) && TryParse(v, out var p)
           && p.BuildEnd - p.PreEnd == Incompatible.Length;

    /// <summary>Ordering of semver.Compare: invalid versions sort before all valid ones and equal to each other.</summary>
    public static int Compare(string v, string w) => Compare(v.AsSpan(), w.AsSpan());

    /// <summary>semver.Compare over spans: -1, 0 or +1. Build metadata is ignored.</summary>
    public static int Compare(ReadOnlySpan<char> v, ReadOnlySpan<char> w)
    {
        bool okV = TryParse(v, out var pv);
        bool okW = TryParse(w, out var pw);
        if (!okV || !okW)
        {
            return okV == okW ? 0 : okV ? 1 : -1;
        }

        int c = CompareNumbers(pv.MajorOf(v), pw.MajorOf(w));
        if (c != 0)
        {
            return c;
        }

        c = CompareNumbers(pv.MinorOf(v), pw.MinorOf(w));
        if (c != 0)
        {
            return c;
        }

        c = CompareNumbers(pv.PatchOf(v), pw.PatchOf(w));
        if (c != 0)
        {
            return c;
        }

        return ComparePrerelease(pv.PrereleaseOf(v), pw.PrereleaseOf(w));
    }

    public static IComparer<string> Comparer { get; } = Comparer<string>.Create(Compare);

    /// <summary>The order of semver.Sort: by <see cref="Compare(string, string)"/>, ties broken by ordinal string order.</summary>
    public static IComparer<string> SortComparer { get; } = Comparer<string>.Create(CompareForSort);

    /// <summary>semver.Max: canonicalizes both (build dropped) and returns the greater; w on ties.</summary>
    public static string Max(string v, string w)
    {
        v = CanonicalWithoutBuild(v);
        w = CanonicalWithoutBuild(w);
        return Compare(v, w) > 0 ? v : w;
    }

    /// <summary>semver.Sort: sorts in place by semantic precedence, ties (and invalid versions) by ordinal order.</summary>
    public static void Sort(Span<string> versions) => versions.Sort(CompareForSort);

    /// <summary>semver.Sort for a list.</summary>
    public static void Sort(List<string> versions)
    {
        ArgumentNullException.ThrowIfNull(versions);
        versions.Sort(CompareForSort);
    }

    private static int CompareForSort(string? v, string? w)
    {
        int c = Compare(v.AsSpan(), w.AsSpan());
        return c != 0 ? c : string.CompareOrdinal(v, w);
    }

    private static bool TryParse(ReadOnlySpan<char> v, out Parts parts)
    {
        parts = default;
        if (v.IsEmpty || v[0] != 'v')
        {
            return false;
        }

        int majorEnd = ScanNumber(v, 1);
        if (majorEnd < 0)
        {
            return false;
        }

        if (majorEnd == v.Length)
        {
            parts = new Parts(majorEnd, majorEnd, majorEnd, majorEnd, majorEnd, majorEnd, majorEnd);
            return true;
        }

        if (v[majorEnd] != '.')
        {
            return false;
        }

        int minorStart = majorEnd + 1;
        int minorEnd = ScanNumber(v, minorStart);
        if (minorEnd < 0)
        {
            return false;
        }

        if (minorEnd == v.Length)
        {
            parts = new Parts(majorEnd, minorStart, minorEnd, minorEnd, minorEnd, minorEnd, minorEnd);
            return true;
        }

        if (v[minorEnd] != '.')
        {
            return false;
        }

        int patchStart = minorEnd + 1;
        int patchEnd = ScanNumber(v, patchStart);
        if (patchEnd < 0)
        {
            return false;
        }

        int preEnd = patchEnd;
        if (preEnd < v.Length && v[preEnd] == '-')
        {
            preEnd = ScanIdentifiers(v, preEnd, prerelease: true);
            if (preEnd < 0)
            {
                return false;
            }
        }

        int buildEnd = preEnd;
        if (buildEnd < v.Length && v[buildEnd] == '+')
        {
            buildEnd = ScanIdentifiers(v, buildEnd, prerelease: false);
            if (buildEnd < 0)
            {
                return false;
            }
        }

        if (buildEnd != v.Length)
        {
            return false;
        }

        parts = new Parts(majorEnd, minorStart, minorEnd, patchStart, patchEnd, preEnd, buildEnd);
        return true;
    }

    /// <summary>Scans a decimal number without extra leading zeros at start; returns its end or -1.</summary>
    private static int ScanNumber(ReadOnlySpan<char> v, int start)
    {
        int i = start;
        while (i < v.Length && char.IsAsciiDigit(v[i]))
        {
            i++;
        }

        if (i == start || (v[start] == '0' && i - start > 1))
        {
            return -1;
        }

        return i;
    }

    /// <summary>
    /// Scans "-ident.ident…" (prerelease, ends before '+' or at the end) or "+ident.ident…" (build, runs to the end),
    /// starting at the sign. Returns the end index or -1 when an identifier is empty, has a bad character, or (for
    /// prerelease) is numeric with a leading zero.
    /// </summary>
    private static int ScanIdentifiers(ReadOnlySpan<char> v, int sign, bool prerelease)
    {
        int identStart = sign + 1;
        int i = identStart;
        for (; i < v.Length; i++)
        {
            char c = v[i];
            if (c == '+' && prerelease)
            {
                break;
            }

            if (c == '.')
            {
                if (i == identStart || (prerelease && IsNumberWithLeadingZero(v[identStart..i])))
                {
                    return -1;
                }

                identStart = i + 1;
            }
            else if (!IsIdentChar(c))
            {
                return -1;
            }
        }

        if (i == identStart || (prerelease && IsNumberWithLeadingZero(v[identStart..i])))
        {
            return -1;
        }

        return i;
    }

    private static bool IsIdentChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '-';

    private static bool IsNumberWithLeadingZero(ReadOnlySpan<char> ident)
        => ident.Length > 1 && ident[0] == '0' && IsAllDigits(ident);

    private static bool IsAllDigits(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Compares decimal numbers without leading zeros: longer is larger, else ordinal.</summary>
    private static int CompareNumbers(ReadOnlySpan<char> x, ReadOnlySpan<char> y)
    {
        if (x.Length != y.Length)
        {
            return x.Length < y.Length ? -1 : 1;
        }

        return Math.Sign(x.SequenceCompareTo(y));
    }

    /// <summary>SemVer 2.0.0 prerelease precedence; both arguments include the leading '-' or are empty (a release).</summary>
    private static int ComparePrerelease(ReadOnlySpan<char> x, ReadOnlySpan<char> y)
    {
        if (x.SequenceEqual(y))
        {
            return 0;
        }

        if (x.IsEmpty)
        {
            return 1;
        }

        if (y.IsEmpty)
        {
            return -1;
        }

        while (!x.IsEmpty && !y.IsEmpty)
        {
            var dx = NextIdentifier(ref x);
            var dy = NextIdentifier(ref y);
            if (dx.SequenceEqual(dy))
            {
                continue;
            }

            bool nx = IsAllDigits(dx);
            bool ny = IsAllDigits(dy);
            if (nx != ny)
            {
                return nx ? -1 : 1;
            }

            if (nx && dx.Length != dy.Length)
            {
                return dx.Length < dy.Length ? -1 : 1;
            }

            return dx.SequenceCompareTo(dy) < 0 ? -1 : 1;
        }

        return x.IsEmpty ? -1 : 1;
    }

    /// <summary>Skips the separator at s[0] and splits off the identifier that follows.</summary>
    private static ReadOnlySpan<char> NextIdentifier(ref ReadOnlySpan<char> s)
    {
        s = s[1..];
        int dot = s.IndexOf('.');
        if (dot < 0)
        {
            var all = s;
            s = default;
            return all;
        }

        var ident = s[..dot];
        s = s[dot..];
        return ident;
    }
}

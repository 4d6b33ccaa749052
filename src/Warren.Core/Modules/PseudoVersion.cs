using System.Buffers;
using System.Globalization;

namespace Warren.Core.Modules;

/// <summary>Why a version is not a well-formed pseudo-version (see <see cref="PseudoVersion.Check"/>).</summary>
public enum PseudoVersionErrorKind
{
    /// <summary>Not a pseudo-version at all: "syntax error".</summary>
    Syntax,

    /// <summary>The timestamp is not a real time: "malformed time \"…\"".</summary>
    MalformedTime,

    /// <summary>A vX.0.0-… form with build metadata: "lacks base version, but has build metadata \"…\"".</summary>
    BuildMetadataWithoutBase,

    /// <summary>A vX.Y.0-0.… form: "version before … would have negative patch number".</summary>
    NegativePatch,
}

/// <summary>A failed pseudo-version check: what is wrong, and the reason as Go words it.</summary>
/// <remarks>Go wraps the message as <c>pseudo-version "v…" invalid: message</c>.</remarks>
public sealed record PseudoVersionError(PseudoVersionErrorKind Kind, string Message);

/// <summary>The three pseudo-version forms of cmd/go/internal/modfetch (vX.0.0-yyyymmddhhmmss-abcdef123456, vX.Y.Z-pre.0.yyyymmddhhmmss-…, vX.Y.(Z+1)-0.yyyymmddhhmmss-…).</summary>
/// <remarks>
/// Each form may carry build metadata (typically "+incompatible"). The rules are those of golang.org/x/mod/module's
/// pseudo.go: a pseudo-version is a valid semantic version whose prerelease ends in a 14-digit UTC timestamp and an
/// alphanumeric revision, after "vX.0.0-", "vX.Y.Z-0." or "vX.Y.Z-pre.0.".
/// </remarks>
public static class PseudoVersion
{
    private const int TimestampLength = 14;
    private const string TimestampFormat = "yyyyMMddHHmmss";

    private static readonly PseudoVersionError SyntaxError = new(PseudoVersionErrorKind.Syntax, "syntax error");

    private static readonly SearchValues<char> Alphanumerics =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>Where the pieces of a pseudo-version are: base is [0, BaseEnd), timestamp [BaseEnd+1, RevStart-1),
    /// revision [RevStart, BuildStart), build [BuildStart, end).</summary>
    private readonly record struct Layout(int BaseEnd, int RevStart, int BuildStart)
    {
        public int TimestampStart => RevStart - 1 - TimestampLength;
    }

    public static bool IsPseudoVersion(string v) => TryLayout(v, out _);

    /// <summary>The commit time of a pseudo-version (UTC), or null if it is not one or its timestamp is not a real time.</summary>
    /// <remarks>Go also accepts the year 0000, which DateTimeOffset cannot hold; such versions give null here.</remarks>
    public static DateTimeOffset? Time(string v)
    {
        if (!TryLayout(v, out var layout) || !TryReadTimestamp(v.AsSpan(layout.TimestampStart, TimestampLength), out var time))
        {
            return null;
        }

        return time;
    }

    /// <summary>The 12-character revision prefix, or null.</summary>
    /// <remarks>Whatever revision the version carries is returned, whatever its length.</remarks>
    public static string? Rev(string v)
        => TryLayout(v, out var layout) ? v[layout.RevStart..layout.BuildStart] : null;

    /// <summary>The "yyyymmddhhmmss" timestamp text of a pseudo-version, or null.</summary>
    public static string? Timestamp(string v)
        => TryLayout(v, out var layout) ? v.Substring(layout.TimestampStart, TimestampLength) : null;

    /// <summary>The base version a pseudo-version builds on ("" for vX.0.0-… forms), or null if not a pseudo-version.</summary>
    /// <remarks>module.PseudoVersionBase: "+incompatible" (or other build metadata) is kept on the base. Also null for the
    /// structurally invalid cases Go rejects (vX.0.0-…+build, and vX.Y.0-0.… whose base would need patch -1).</remarks>
    public static string? Base(string v) => TryGetBase(v, out var result, out _) ? result : null;

    /// <summary>module.PseudoVersionBase with its error: the reason is "syntax error" for a non-pseudo-version, else Go's text.</summary>
    public static bool TryGetBase(string v, out string baseVersion, out string? error)
    {
        var ok = TryGetBaseCore(v, out baseVersion, out var problem);
        error = problem?.Message;
        return ok;
    }

    private static bool TryGetBaseCore(string v, out string baseVersion, out PseudoVersionError? error)
    {
        baseVersion = "";
        if (!TryLayout(v, out var layout))
        {
            error = SyntaxError;
            return false;
        }

        string build = v[layout.BuildStart..];
        var head = v.AsSpan(0, layout.BaseEnd);

        // Form vX.0.0-: the base is "vX.0.0", which has no prerelease.
        int dash = head.IndexOf('-');
        if (dash < 0)
        {
            if (build.Length != 0)
            {
                error = new(PseudoVersionErrorKind.BuildMetadataWithoutBase, "lacks base version, but has build metadata " + GoQuoting.Quote(build));
                return false;
            }

            error = null;
            return true;
        }

        // Form vX.Y.(Z+1)-0.: step the patch back.
        if (head.Length == dash + 2 && head[dash + 1] == '0')
        {
            var release = head[..dash];
            int lastDot = release.LastIndexOf('.');
            string? patch = DecrementDecimal(release[(lastDot + 1)..]);
            if (patch is null)
            {
                error = new(PseudoVersionErrorKind.NegativePatch, "version before " + release.ToString() + " would have negative patch number");
                return false;
            }

            error = null;
            baseVersion = string.Concat(release[..(lastDot + 1)], patch, build);
            return true;
        }

        // Form vX.Y.Z-pre.0.: drop the ".0".
        error = null;
        baseVersion = string.Concat(head[..^2], build);
        return true;
    }

    /// <summary>Null when v is a well-formed pseudo-version, else the first problem found (syntax, time, base), with
    /// the reason as Go words it.</summary>
    public static PseudoVersionError? Check(string v)
    {
        if (!TryLayout(v, out var layout))
        {
            return SyntaxError;
        }

        var timestamp = v.AsSpan(layout.TimestampStart, TimestampLength);
        if (!IsValidTimestamp(timestamp))
        {
            return new PseudoVersionError(PseudoVersionErrorKind.MalformedTime, "malformed time " + GoQuoting.Quote(timestamp));
        }

        return TryGetBaseCore(v, out _, out var error) ? null : error;
    }

    /// <summary>module.ZeroPseudoVersion: "vX.0.0-00010101000000-000000000000", a placeholder (major "" means v0).</summary>
    public static string Zero(string major)
        => (string.IsNullOrEmpty(major) ? "v0" : major) + ".0.0-00010101000000-000000000000";

    /// <summary>module.IsZeroPseudoVersion: v is exactly <see cref="Zero"/> of its own major version.</summary>
    public static bool IsZeroPseudoVersion(string v)
        => v is not null && v.EndsWith(".0.0-00010101000000-000000000000", StringComparison.Ordinal) && v == Zero(SemVer.Major(v));

    /// <summary>Builds a pseudo-version from the older version tag, the commit time and revision (modfetch.PseudoVersion).</summary>
    /// <param name="major">"v2" etc.; "" means v0. Used only when there is no older tag.</param>
    /// <param name="older">The most recent tag before the commit ("" or invalid for none); its build metadata carries over.</param>
    /// <param name="time">The commit time; formatted in UTC.</param>
    /// <param name="rev">The revision identifier, normally the 12-character commit hash prefix.</param>
    public static string Build(string major, string older, DateTimeOffset time, string rev)
    {
        if (string.IsNullOrEmpty(major))
        {
            major = "v0";
        }

        string segment = time.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture) + "-" + rev;
        string build = SemVer.Build(older);
        string tag = SemVer.CanonicalWithoutBuild(older);
        if (tag.Length == 0)
        {
            return major + ".0.0-" + segment;
        }

        if (SemVer.Prerelease(tag).Length != 0)
        {
            return tag + ".0." + segment + build;
        }

        int patchStart = tag.LastIndexOf('.') + 1;
        return string.Concat(tag.AsSpan(0, patchStart), IncrementDecimal(tag.AsSpan(patchStart)), "-0." + segment, build);
    }

    /// <summary>
    /// Locates the parts of a pseudo-version; false when v is not one. The prerelease must end in
    /// "NNNNNNNNNNNNNN-rev" (rev alphanumeric), preceded by "-" with a vX.0.0 release, or by "0." that starts the
    /// prerelease or follows a '.'.
    /// </summary>
    private static bool TryLayout(string v, out Layout layout)
    {
        layout = default;
        if (v is null || v.Length < 1 + 5 + TimestampLength + 2 || !SemVer.IsValid(v))
        {
            return false;
        }

        // In a valid semantic version the first '+' starts the build metadata.
        int buildStart = v.IndexOf('+', StringComparison.Ordinal);
        if (buildStart < 0)
        {
            buildStart = v.Length;
        }

        var core = v.AsSpan(0, buildStart);
        int revDash = core.LastIndexOf('-');
        if (revDash < 0 || revDash == core.Length - 1 || core[(revDash + 1)..].ContainsAnyExcept(Alphanumerics))
        {
            return false;
        }

        int tsStart = revDash - TimestampLength;
        if (tsStart < 2 || core[tsStart..revDash].ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        // The release part vMAJOR.MINOR.PATCH, which semver validity guarantees is followed by '-'.
        int releaseEnd = ScanRelease(core);
        int baseEnd = tsStart - 1;
        if (core[baseEnd] == '-')
        {
            // vX.0.0-timestamp-rev
            if (baseEnd != releaseEnd || !core[..releaseEnd].EndsWith(".0.0"))
            {
                return false;
            }
        }
        else if (core[baseEnd] == '.')
        {
            // vX.Y.Z-0.timestamp-rev or vX.Y.Z-pre.0.timestamp-rev
            if (core[baseEnd - 1] != '0')
            {
                return false;
            }

            int before = baseEnd - 2;
            if (!(before == releaseEnd || (before > releaseEnd && core[before] == '.')))
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        layout = new Layout(baseEnd, revDash + 1, buildStart);
        return true;
    }

    /// <summary>Index just past vMAJOR.MINOR.PATCH (the '-' of the prerelease) in a valid full semantic version.</summary>
    private static int ScanRelease(ReadOnlySpan<char> v)
    {
        int dots = 0;
        int i = 1;
        while (i < v.Length && (char.IsAsciiDigit(v[i]) || (v[i] == '.' && dots++ < 2)))
        {
            i++;
        }

        return i;
    }

    private static bool IsValidTimestamp(ReadOnlySpan<char> ts) => TryReadFields(ts, out _, out _, out _, out _, out _, out _);

    private static bool TryReadTimestamp(ReadOnlySpan<char> ts, out DateTimeOffset time)
    {
        time = default;
        if (!TryReadFields(ts, out int year, out int month, out int day, out int hour, out int minute, out int second) || year < 1)
        {
            return false;
        }

        time = new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero);
        return true;
    }

    /// <summary>Reads yyyyMMddHHmmss with the range checks of Go's time.Parse (proleptic Gregorian; year 0 is a leap year).</summary>
    private static bool TryReadFields(ReadOnlySpan<char> ts, out int year, out int month, out int day, out int hour, out int minute, out int second)
    {
        year = Digits(ts[..4]);
        month = Digits(ts[4..6]);
        day = Digits(ts[6..8]);
        hour = Digits(ts[8..10]);
        minute = Digits(ts[10..12]);
        second = Digits(ts[12..14]);
        if (month is < 1 or > 12 || hour > 23 || minute > 59 || second > 59 || day < 1)
        {
            return false;
        }

        int daysInMonth = month == 2
            ? (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28)
            : month is 4 or 6 or 9 or 11 ? 30 : 31;
        return day <= daysInMonth;
    }

    private static int Digits(ReadOnlySpan<char> s)
    {
        int n = 0;
        foreach (char c in s)
        {
            n = (n * 10) + (c - '0');
        }

        return n;
    }

    private static string IncrementDecimal(ReadOnlySpan<char> digits)
    {
        Span<char> buffer = digits.Length < 64 ? stackalloc char[digits.Length + 1] : new char[digits.Length + 1];
        digits.CopyTo(buffer[1..]);
        int i = digits.Length;
        while (i > 0 && buffer[i] == '9')
        {
            buffer[i--] = '0';
        }

        if (i > 0)
        {
            buffer[i]++;
            return buffer[1..].ToString();
        }

        buffer[0] = '1';
        return buffer.ToString();
    }

    /// <summary>The decimal minus one (dropping a leading zero it creates), or null when it is all zeros or empty.</summary>
    private static string? DecrementDecimal(ReadOnlySpan<char> digits)
    {
        Span<char> buffer = digits.Length <= 64 ? stackalloc char[digits.Length] : new char[digits.Length];
        digits.CopyTo(buffer);
        int i = buffer.Length - 1;
        while (i >= 0 && buffer[i] == '0')
        {
            buffer[i--] = '9';
        }

        if (i < 0)
        {
            return null;
        }

        if (i == 0 && buffer[0] == '1' && buffer.Length > 1)
        {
            return buffer[1..].ToString();
        }

        buffer[i]--;
        return buffer.ToString();
    }
}

using Warren.Core.Modules;

namespace Warren.Core.Vulns;

/// <summary>One entry of the Go vulnerability database, in the OSV schema the database publishes
/// (https://go.dev/security/vuln/database). Only what Warren reasons about is modelled; <see cref="RawJson"/> keeps the
/// entry exactly as it was read so that it can be served or re-emitted unchanged.</summary>
public sealed record Advisory(
    string Id,
    DateTimeOffset Modified,
    DateTimeOffset? Published,
    DateTimeOffset? Withdrawn,
    IReadOnlyList<string> Aliases,
    string Summary,
    string Details,
    IReadOnlyList<AffectedModule> Affected)
{
    /// <summary>The bytes the entry was parsed from (empty for an entry built in code).</summary>
    public byte[] RawJson { get; init; } = [];

    /// <summary>The affected entries that name this module path exactly.</summary>
    public IEnumerable<AffectedModule> For(string modulePath) => Affected.Where(a => a.ModulePath == modulePath);

    /// <summary>Whether module@version falls in a range of this advisory.</summary>
    public bool Affects(string modulePath, string version)
    {
        foreach (var affected in Affected)
        {
            if (affected.ModulePath == modulePath && affected.Affects(version))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The smallest fixed version above <paramref name="version"/> among the ranges that affect it, or null when
    /// the version is not affected or no fix is known.</summary>
    public string? FixedVersionFor(string modulePath, string version)
    {
        string? best = null;
        foreach (var affected in Affected)
        {
            if (affected.ModulePath != modulePath)
            {
                continue;
            }

            var fixedVersion = affected.FixedVersionFor(version);
            if (fixedVersion is not null && (best is null || SemVer.Compare(fixedVersion, best) < 0))
            {
                best = fixedVersion;
            }
        }

        return best;
    }

    /// <summary>"GO-2023-1234 (CVE-2023-1111, GHSA-…)", CVE aliases first; the ID alone when it has no aliases.</summary>
    public string DisplayName => Aliases.Count == 0
        ? Id
        : $"{Id} ({string.Join(", ", Aliases.OrderBy(a => a.StartsWith("CVE-", StringComparison.Ordinal) ? 0 : 1).ThenBy(a => a, StringComparer.Ordinal))})";
}

/// <summary>One module an advisory affects, with its version ranges and the packages (and symbols) concerned.</summary>
public sealed record AffectedModule(string ModulePath, IReadOnlyList<AffectedRange> Ranges, IReadOnlyList<AffectedPackage> Packages)
{
    /// <summary>Whether the version falls in one of the ranges. An entry without any SEMVER range affects every version
    /// (the OSV rule); a string that is not a Go semantic version is never affected.</summary>
    public bool Affects(string version)
    {
        if (!SemVer.IsValid(version))
        {
            return false;
        }

        if (Ranges.Count == 0)
        {
            return true;
        }

        foreach (var range in Ranges)
        {
            if (range.Affects(version))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The smallest fix above the version in the ranges that affect it, or null.</summary>
    public string? FixedVersionFor(string version)
    {
        if (!SemVer.IsValid(version))
        {
            return null;
        }

        string? best = null;
        foreach (var range in Ranges)
        {
            var fixedVersion = range.FixedVersionFor(version);
            if (fixedVersion is not null && (best is null || SemVer.Compare(fixedVersion, best) < 0))
            {
                best = fixedVersion;
            }
        }

        return best;
    }
}

public enum RangeEventKind
{
    Introduced,
    Fixed,
}

/// <summary>An OSV range event, its version in Go form ("v1.2.3"); an "introduced: 0" event carries
/// <see cref="RangeEvent.Zero"/>, which sorts before every version.</summary>
public sealed record RangeEvent(RangeEventKind Kind, string Version)
{
    /// <summary>The "from the very start" version of "introduced: 0".</summary>
    public const string Zero = "v0.0.0-0";

    public bool IsZero => Version == Zero;
}

/// <summary>An OSV range of type SEMVER: its events in the order the entry gave them.</summary>
public sealed record AffectedRange(IReadOnlyList<RangeEvent> Events)
{
    private RangeEvent[] Sorted()
    {
        var sorted = Events.ToArray();

        // Stable: an introduced and a fixed event at the same version keep the entry's order.
        var keys = sorted.Select((e, i) => (e, i)).ToArray();
        Array.Sort(keys, (a, b) =>
        {
            var c = CompareEventVersions(a.e, b.e);
            return c != 0 ? c : a.i.CompareTo(b.i);
        });
        return keys.Select(k => k.e).ToArray();
    }

    private static int CompareEventVersions(RangeEvent a, RangeEvent b) => (a.IsZero, b.IsZero) switch
    {
        (true, true) => 0,
        (true, false) => -1,
        (false, true) => 1,
        _ => SemVer.Compare(a.Version, b.Version),
    };

    private static bool AtOrAfter(string version, RangeEvent e) => e.IsZero || SemVer.Compare(version, e.Version) >= 0;

    /// <summary>Walks the events in version order: the version is affected when the last event at or below it is an
    /// introduction.</summary>
    public bool Affects(string version)
    {
        var affected = false;
        foreach (var e in Sorted())
        {
            if (!AtOrAfter(version, e))
            {
                break;
            }

            affected = e.Kind == RangeEventKind.Introduced;
        }

        return affected;
    }

    /// <summary>The first fix above the version when this range affects it, else null.</summary>
    public string? FixedVersionFor(string version) => !Affects(version)
        ? null
        : Sorted().FirstOrDefault(e => e.Kind == RangeEventKind.Fixed && !e.IsZero && SemVer.Compare(e.Version, version) > 0)?.Version;
}

/// <summary>A package of an affected module, with the symbols concerned (empty: the whole package) and the platforms
/// (empty: every platform).</summary>
public sealed record AffectedPackage(string Path, IReadOnlyList<string> Symbols, IReadOnlyList<string> Goos, IReadOnlyList<string> Goarch);

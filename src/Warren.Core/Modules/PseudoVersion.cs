namespace Warren.Core.Modules;

/// <summary>The three pseudo-version forms of cmd/go/internal/modfetch (vX.0.0-yyyymmddhhmmss-abcdef123456, vX.Y.Z-pre.0.yyyymmddhhmmss-…, vX.Y.(Z+1)-0.yyyymmddhhmmss-…).</summary>
public static class PseudoVersion
{
    public static bool IsPseudoVersion(string v) => false;

    /// <summary>The commit time of a pseudo-version (UTC), or null if it is not one.</summary>
    public static DateTimeOffset? Time(string v) => null;

    /// <summary>The 12-character revision prefix, or null.</summary>
    public static string? Rev(string v) => null;

    /// <summary>The base version a pseudo-version builds on ("" for vX.0.0-… forms), or null if not a pseudo-version.</summary>
    public static string? Base(string v) => null;

    /// <summary>Builds a pseudo-version from the older version tag, the commit time and revision (modfetch.PseudoVersion).</summary>
    public static string Build(string major, string older, DateTimeOffset time, string rev) => throw new NotImplementedException();
}

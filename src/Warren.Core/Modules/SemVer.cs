namespace Warren.Core.Modules;

/// <summary>Go's semantic versions (golang.org/x/mod/semver): "v" prefix, shorthands v1 and v1.2 valid but not canonical.</summary>
public static class SemVer
{
    public static bool IsValid(string v) => v.StartsWith('v');

    /// <summary>Canonical form (v1 → v1.0.0, build suffix dropped but +incompatible kept), or "" if invalid.</summary>
    public static string Canonical(string v) => v;

    /// <summary>"v2" for v2.1.0; "" if invalid.</summary>
    public static string Major(string v) => v;

    public static string MajorMinor(string v) => v;

    /// <summary>"-pre" part including the dash, or "".</summary>
    public static string Prerelease(string v) => "";

    /// <summary>"+build" part including the plus, or "".</summary>
    public static string Build(string v) => "";

    /// <summary>Ordering of semver.Compare: invalid versions sort before all valid ones and equal to each other.</summary>
    public static int Compare(string v, string w) => string.CompareOrdinal(v, w);

    public static IComparer<string> Comparer { get; } = Comparer<string>.Create(Compare);
}

namespace Warren.Core.Modules;

/// <summary>GOPRIVATE/GONOPROXY/GONOSUMDB globs (module.MatchPrefixPatterns).</summary>
public static class ModulePatterns
{
    /// <summary>True if any comma-separated glob matches a path-element prefix of target.</summary>
    public static bool MatchPrefixPatterns(string globs, string target) => false;

    /// <summary>null when every glob is well formed (path.Match syntax), else the reason.</summary>
    public static string? Validate(string globs) => null;
}

namespace Warren.Storage;

/// <summary>What the index holds, counted by the index itself (never a walk of the store): module paths and versions
/// present (not evicted), the bytes of their stored files, and versions evicted.</summary>
public sealed record IndexStats(long Modules, long Versions, long Bytes, long EvictedVersions);

/// <summary>A module path the index knows, with how many versions it has recorded and when the newest was first stored.</summary>
public sealed record ModuleMatch(string ModulePath, long Versions, DateTimeOffset LastStored);

/// <summary>Bounds of <see cref="IModuleIndex.SearchModulesAsync"/>.</summary>
public static class ModuleSearch
{
    /// <summary>Most results one call returns.</summary>
    public const int MaxLimit = 500;

    /// <summary>Longest query accepted (a module path is at most a few hundred bytes).</summary>
    public const int MaxQueryLength = 256;

    /// <summary>Null when the query can be searched, else a one-line reason.</summary>
    public static string? Validate(string query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Length > MaxQueryLength)
        {
            return $"search text too long ({query.Length} characters; at most {MaxQueryLength})";
        }

        foreach (var c in query)
        {
            if (char.IsControl(c) || char.IsSurrogate(c))
            {
                return "search text has a control or non-text character";
            }
        }

        return null;
    }
}

/// <summary>How a version's hashes were vouched for when it was stored: the checksum database that verified them and the
/// size of its tree that proved the record (the latest verified tree head at that moment).</summary>
public sealed record VersionVerification(string ModulePath, string Version, string Database, long TreeSize, DateTimeOffset VerifiedAt);

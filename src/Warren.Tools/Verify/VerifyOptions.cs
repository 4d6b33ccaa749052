using Warren.Protocol.SumDb;

namespace Warren.Tools.Verify;

/// <summary>What `warren verify` checks and whether it repairs.</summary>
/// <param name="ModCache">The module cache (GOMODCACHE) to verify.</param>
public sealed record VerifyOptions(string ModCache)
{
    /// <summary>go.sum files whose lines are compared with the cache.</summary>
    public IReadOnlyList<string> GoSumFiles { get; init; } = [];

    /// <summary>A checksum database to look every cached module version up in, or null for none.</summary>
    public SumDbConfig? SumDb { get; init; }

    /// <summary>GOPRIVATE/GONOSUMDB-style globs: module versions whose path matches are never looked up in the
    /// checksum database (their paths must not reach it).</summary>
    public string NoSumDb { get; init; } = "";

    /// <summary>The HTTP client for checksum-database lookups (one is made when null).</summary>
    public HttpClient? Http { get; init; }

    /// <summary>Where the checksum-database client keeps its verified tree head and tiles (default: a new private
    /// temporary directory).</summary>
    public string? SumDbStateDirectory { get; init; }

    /// <summary>Remove the corrupted entries (and the leftovers of interrupted downloads) so that the go command
    /// fetches them again.</summary>
    public bool Fix { get; init; }

    /// <summary>How many module versions are checked at once.</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;
}

namespace Warren.Storage.Sqlite;

/// <summary>Where the SQLite module index lives.</summary>
public sealed record SqliteIndexOptions
{
    /// <summary>The absolute path of the database file (conventionally STORE/.warren/index.db). Missing parent
    /// directories are created with mode 0700; the file is created with mode 0600.</summary>
    public required string Path { get; init; }

    /// <summary>Where the hosted checksum database logs are kept: a database of their own (default: hosted.db beside
    /// <see cref="Path"/>), never recreated when found corrupt, since a log cannot be rebuilt from the store.</summary>
    public string? HostedLogPath { get; init; }

    /// <summary>Whether a corrupt database is moved aside and recreated empty (the index is a cache of the store); when
    /// false, corruption is an error for the operator.</summary>
    public bool RecreateWhenCorrupt { get; init; } = true;

    /// <summary>The problems of these options, one line each; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Path))
        {
            problems.Add("SQLite index: Path is required (the absolute path of the database file)");
            return problems;
        }

        if (Path.Contains('\0', StringComparison.Ordinal))
        {
            problems.Add("SQLite index: Path contains a NUL character");
            return problems;
        }

        if (!System.IO.Path.IsPathFullyQualified(Path))
        {
            problems.Add($"SQLite index: Path must be absolute, not {Path}");
        }

        if (Path.EndsWith('/') || Path.EndsWith(System.IO.Path.DirectorySeparatorChar))
        {
            problems.Add($"SQLite index: Path must name a file, not a directory: {Path}");
        }

        return problems;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem, one per line, unless the options are valid.</summary>
    public void ThrowIfInvalid()
    {
        var problems = Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join('\n', problems));
        }
    }
}

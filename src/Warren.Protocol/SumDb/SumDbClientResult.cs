namespace Warren.Protocol.SumDb;

/// <summary>The outcome of a checksum-database lookup.</summary>
public enum SumDbLookupStatus
{
    /// <summary>The record was found, authenticated and is consistent with every tree head seen before.</summary>
    Ok,

    /// <summary>The database answered 404 or 410: the module version is not in it.</summary>
    NotFound,

    /// <summary>The database could not be reached or answered with an error (network, timeout, 5xx): try later.</summary>
    Failed,

    /// <summary>The database's answer does not verify: bad signature, malformed response, proof failure.</summary>
    Invalid,

    /// <summary>The database signed two inconsistent tree heads: it is misbehaving. The stored head is kept.</summary>
    Fork,
}

/// <summary>The result of <see cref="SumDbClient.LookupAsync"/>. <see cref="Message"/> is a single line.</summary>
public sealed record SumDbLookupResult(SumDbLookupStatus Status, string? ZipHash, string? GoModHash, string Message)
{
    public bool IsOk => Status == SumDbLookupStatus.Ok;

    /// <summary>For Failed: the database did not answer in time.</summary>
    public bool TimedOut { get; init; }

    public static SumDbLookupResult Ok(string zipHash, string goModHash) =>
        new(SumDbLookupStatus.Ok, zipHash, goModHash, "ok");

    public static SumDbLookupResult NotFound(string message) => new(SumDbLookupStatus.NotFound, null, null, OneLine(message));

    public static SumDbLookupResult Failed(string message) => new(SumDbLookupStatus.Failed, null, null, OneLine(message));

    public static SumDbLookupResult Invalid(string message) => new(SumDbLookupStatus.Invalid, null, null, OneLine(message));

    public static SumDbLookupResult Fork(string message) => new(SumDbLookupStatus.Fork, null, null, OneLine(message));

    /// <summary>Collapses line breaks and tabs (from nested messages or server text) into single spaces.</summary>
    public static string OneLine(string message)
    {
        var parts = message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(' ', parts);
    }
}

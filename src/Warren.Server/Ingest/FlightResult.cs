namespace Warren.Server.Ingest;

/// <summary>The result of one shared upstream fetch: stored (or fetched, with the body), or the outcome that says why not.</summary>
internal sealed record FlightResult(Outcome? Failure, byte[]? Body = null)
{
    public static readonly FlightResult Stored = new((Outcome?)null);

    public bool IsOk => Failure is null;

    public static implicit operator FlightResult(Outcome failure) => new(failure);
}

namespace Warren.WebConsole;

/// <summary>The web console's settings, frozen at start-up.</summary>
public sealed record ConsoleOptions
{
    public static readonly TimeSpan DefaultSessionLifetime = TimeSpan.FromHours(8);

    /// <summary>How long a sign-in lasts (never longer than the token it was made with).</summary>
    public TimeSpan SessionLifetime { get; init; } = DefaultSessionLifetime;

    /// <summary>Most live sessions kept; when full, the one closest to its end goes first.</summary>
    public int MaxSessions { get; init; } = 10_000;
}

/// <summary>Gathers the console's settings; <see cref="Build"/> validates them (one line per problem).</summary>
public sealed class ConsoleOptionsBuilder
{
    public TimeSpan? SessionLifetime { get; set; }

    public int? MaxSessions { get; set; }

    public ConsoleOptions Build()
    {
        var problems = new List<string>();
        var o = new ConsoleOptions
        {
            SessionLifetime = SessionLifetime ?? ConsoleOptions.DefaultSessionLifetime,
            MaxSessions = MaxSessions ?? 10_000,
        };
        if (o.SessionLifetime <= TimeSpan.Zero || o.SessionLifetime > TimeSpan.FromDays(30))
        {
            problems.Add($"console session lifetime {o.SessionLifetime}: must be more than 0 and at most 30 days");
        }

        if (o.MaxSessions is < 1 or > 1_000_000)
        {
            problems.Add($"console max sessions {o.MaxSessions}: must be 1 to 1000000");
        }

        if (problems.Count > 0)
        {
            throw new OptionsValidationException("Console", typeof(ConsoleOptions), problems);
        }

        return o;
    }
}

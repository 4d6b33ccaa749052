namespace Warren.Server.Policy;

/// <summary>Log messages of the policy at the proxy (event ids 7900–7949).</summary>
internal static partial class PolicyLog
{
    [LoggerMessage(EventId = 7900, Level = LogLevel.Information, Message = "Policy {Source} loaded: {Summary}")]
    public static partial void Loaded(ILogger logger, string source, string summary);

    [LoggerMessage(EventId = 7901, Level = LogLevel.Information, Message = "Policy {Source} changed; now in force: {Summary}")]
    public static partial void Reloaded(ILogger logger, string source, string summary);

    [LoggerMessage(EventId = 7902, Level = LogLevel.Warning, Message = "Policy {Source} changed but is invalid, the previous policy stays in force: {Problem}")]
    public static partial void Invalid(ILogger logger, string source, string problem);

    [LoggerMessage(EventId = 7903, Level = LogLevel.Warning, Message = "Policy {Source} cannot be read ({Reason}); the previous policy stays in force")]
    public static partial void Unreadable(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 7904, Level = LogLevel.Warning, Message = "Policy: the retractions of {Module} are unknown ({Reason}); its versions are not denied as retracted until they can be read")]
    public static partial void RetractionsUnknown(ILogger logger, string module, string reason);

    [LoggerMessage(EventId = 7905, Level = LogLevel.Warning, Message = "Policy: denyVulnerable is on but no vulnerability database is loaded; no version is denied as vulnerable until one is")]
    public static partial void NoVulnerabilityDatabase(ILogger logger);

    [LoggerMessage(EventId = 7906, Level = LogLevel.Warning, Message = "Policy: file watching of {Directory} is unavailable ({Reason}); changes are found by polling every {Interval}")]
    public static partial void WatchUnavailable(ILogger logger, string directory, string reason, TimeSpan interval);

    // Audit events: the access log's category, so they land with access-control decisions.

    [LoggerMessage(EventId = 7920, Level = LogLevel.Information, Message = "Policy denied {Module} zip to {Principal}: {Rule}: {Reason} (identical decisions since the last such line: {Repeats})")]
    public static partial void ZipDenied(ILogger logger, string principal, string module, string rule, string reason, long repeats);

    [LoggerMessage(EventId = 7921, Level = LogLevel.Information, Message = "Policy allowed {Module} zip to {Principal}: {Rule} (identical decisions since the last such line: {Repeats})")]
    public static partial void ZipAllowed(ILogger logger, string principal, string module, string rule, long repeats);
}

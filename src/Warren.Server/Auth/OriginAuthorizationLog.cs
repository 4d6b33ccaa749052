using Microsoft.Extensions.Logging;

namespace Warren.Server.Auth;

/// <summary>Log events of origin authorization (event ids 6100-6199). The principal is the Basic user name; the password
/// is never an argument.</summary>
internal static partial class OriginAuthorizationLog
{
    [LoggerMessage(EventId = 6100, Level = LogLevel.Information, Message = "Origin-authorized {Artifact} of {Module} served to {Principal}: {Status}")]
    public static partial void Served(ILogger logger, string principal, string module, string artifact, int status);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Denied {Artifact} of {Module} to {Principal}: {Status} {Reason}")]
    public static partial void Denied(ILogger logger, string principal, string module, string artifact, int status, string reason);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "Could not check {Principal}'s access to the origin of {Module} ({Repository}): {Reason}")]
    public static partial void CheckFailed(ILogger logger, string principal, string module, string repository, string reason);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Debug, Message = "Checked {Principal}'s access to {Repository} with git ls-remote: {Verdict} in {ElapsedMs:0.0} ms")]
    public static partial void Checked(ILogger logger, string principal, string repository, OriginVerdict verdict, double elapsedMs);
}

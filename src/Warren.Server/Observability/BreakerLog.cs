namespace Warren.Server.Observability;

/// <summary>Log messages of the upstream circuit breakers and of the health report (event ids 7400-7449).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7400, Level = LogLevel.Warning, Message = "Upstream {Upstream} is down after {Failures} consecutive failures (last: {Reason}); passed over until a probe gets an answer, first in {Cooldown}")]
    public static partial void UpstreamDown(ILogger logger, string upstream, int failures, string reason, TimeSpan cooldown);

    [LoggerMessage(EventId = 7401, Level = LogLevel.Information, Message = "Upstream {Upstream} answers again; its circuit is closed")]
    public static partial void UpstreamUp(ILogger logger, string upstream);

    [LoggerMessage(EventId = 7402, Level = LogLevel.Information, Message = "Probe of upstream {Upstream} failed: {Reason}; next probe in {Cooldown}")]
    public static partial void UpstreamProbeFailed(ILogger logger, string upstream, string reason, TimeSpan cooldown);

    [LoggerMessage(EventId = 7403, Level = LogLevel.Debug, Message = "{Request}: passed over {Upstream}, whose circuit is open")]
    public static partial void UpstreamSkipped(ILogger logger, string request, string upstream);
}

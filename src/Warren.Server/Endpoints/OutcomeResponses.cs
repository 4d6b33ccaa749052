using Warren.Server.Ingest;

namespace Warren.Server.Endpoints;

/// <summary>The one place an <see cref="Outcome"/> becomes an HTTP status and a body.</summary>
public static class OutcomeResponses
{
    /// <summary>The status code for an outcome. Not found and gone are what the go command falls through on; a refused
    /// answer, like a failed upstream, is a bad gateway: the module exists, Warren will not vouch for what it got.</summary>
    public static int StatusCode(Outcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return outcome.Kind switch
        {
            OutcomeKind.NotFound => StatusCodes.Status404NotFound,
            OutcomeKind.Gone => StatusCodes.Status410Gone,
            OutcomeKind.BadRequest => StatusCodes.Status400BadRequest,
            OutcomeKind.Forbidden => StatusCodes.Status403Forbidden,
            OutcomeKind.Timeout => StatusCodes.Status504GatewayTimeout,
            OutcomeKind.UpstreamFailed or OutcomeKind.Refused => StatusCodes.Status502BadGateway,
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome.Kind, "unknown outcome kind"),
        };
    }

    /// <summary>The body: the message on one line.</summary>
    public static string Body(Outcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return OneLine(outcome.Message);
    }

    /// <summary>A message as a one-line text body (line breaks become spaces, one newline at the end).</summary>
    public static string OneLine(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Replace('\n', ' ') + "\n";
    }
}

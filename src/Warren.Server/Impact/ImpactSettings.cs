using Warren.Core.Limits;

namespace Warren.Server.Impact;

/// <summary>The options of download records, the impact report and the alert webhook: their start-up problems and
/// their effective values.</summary>
public static class ImpactSettings
{
    /// <summary>The longest node name accepted.</summary>
    public const int MaxNodeName = 128;

    /// <summary>One line per problem.</summary>
    public static IEnumerable<string> Problems(WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.DownloadRetention is { } retention && !DurationText.TryParse(retention, out _, out var error))
        {
            yield return "download retention: " + error;
        }
        else if (options.DownloadRetentionPeriod < TimeSpan.FromDays(1))
        {
            yield return $"download retention \"{options.DownloadRetention}\": must be at least one day (counts are kept per day)";
        }

        if (options.AlertWebhook is { } webhook && WebhookProblem(webhook) is { } problem)
        {
            yield return problem;
        }

        if (options.NodeName is { } node && (node.Length is 0 or > MaxNodeName || node.Any(char.IsControl) || node.Trim() != node))
        {
            yield return $"node name: must be 1 to {MaxNodeName} characters, without control characters or surrounding spaces";
        }
    }

    /// <summary>The webhook URL's problem (redacted), or null when it is an absolute http(s) URL.</summary>
    public static string? WebhookProblem(string webhook)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        if (!Uri.TryCreate(webhook, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            return $"alert webhook \"{Warren.Fetch.Direct.Git.SecretRedactor.RedactText(webhook)}\": not an absolute http or https URL";
        }

        if (uri.Fragment.Length > 0)
        {
            return $"alert webhook \"{Redact(uri)}\": a URL with a #fragment";
        }

        return null;
    }

    /// <summary>The webhook URL for logs: without user information or query (either may hold a secret).</summary>
    public static string Redact(Uri uri) => Warren.Protocol.GoProxy.GoProxyClient.Redact(uri);

    /// <summary>This node's name in download records: the configured one, else the machine's host name.</summary>
    public static string NodeName(WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.NodeName ?? Environment.MachineName;
    }
}

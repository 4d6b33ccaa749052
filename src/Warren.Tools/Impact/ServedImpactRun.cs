using Warren.Tools.Reporting;

namespace Warren.Tools.Impact;

/// <summary>`warren audit --served` in one call: asks the Warren, writes the report (text or JSON) and maps it to the
/// audit exit codes: 0 no served version is affected, 1 some are, 2 the report could not be had (the reason on the
/// error writer, one line).</summary>
public static class ServedImpactRun
{
    public const int NothingAffected = 0;
    public const int Affected = 1;
    public const int Error = 2;

    /// <param name="proxy">The Warren's base URL (GOPROXY's first http(s) entry, or --proxy).</param>
    /// <param name="since">"90d"; null: the Warren's whole retention window.</param>
    /// <param name="token">An admin token (Bearer) for a Warren with an auth file; null: none.</param>
    /// <param name="json">JSON instead of text.</param>
    public static async Task<int> RunAsync(HttpClient http, Uri proxy, string? since, string? token, bool json, ReportStyle style,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var result = await new ServedImpactClient(http).GetAsync(proxy, since, token, cancellationToken).ConfigureAwait(false);
        if (result.Report is not { } report)
        {
            await error.WriteLineAsync("warren audit --served: " + result.Error).ConfigureAwait(false);
            return Error;
        }

        if (json)
        {
            ServedImpactRenderer.WriteJson(report, output);
        }
        else
        {
            ServedImpactRenderer.WriteText(report, output, style);
        }

        return report.Versions.Count > 0 ? Affected : NothingAffected;
    }
}

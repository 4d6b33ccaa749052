using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Warren.Core.Impact;
using Warren.Core.Limits;

namespace Warren.Tools.Impact;

/// <summary>The answer of a Warren to an impact query: the report, or a one-line reason it could not be had.</summary>
public sealed record ServedImpactResult(ServedImpactReport? Report, string? Error)
{
    public bool Succeeded => Report is not null;
}

/// <summary>Asks a Warren which of the versions it served are affected by an advisory, and who downloaded them
/// (GET PROXY/admin/impact?since=…; an admin token when the Warren has an auth file). What `warren audit --served` calls.</summary>
public sealed class ServedImpactClient(HttpClient http)
{
    /// <summary>The longest answer read.</summary>
    public const int MaxAnswerBytes = 64 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The report of the versions downloaded within since ("90d", "12w"; null: the Warren's whole retention
    /// window). token: sent as Bearer when given. Expected failures (refused, unreachable, bad answer) are results.</summary>
    public async Task<ServedImpactResult> GetAsync(Uri proxy, string? since, string? token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        if (since is not null && !DurationText.TryParse(since, out _, out var sinceError))
        {
            return new ServedImpactResult(null, "--since: " + sinceError);
        }

        var url = ImpactUrl(proxy, since);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var limited = new Warren.Storage.LimitedReadStream(body, MaxAnswerBytes);
            if (!response.IsSuccessStatusCode)
            {
                using var reader = new StreamReader(limited);
                var first = (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false))?.Trim();
                var hint = response.StatusCode is HttpStatusCode.NotFound ? " (is it a Warren with download records?)" : "";
                return new ServedImpactResult(null, $"{Redact(url)}: HTTP {(int)response.StatusCode}{(string.IsNullOrEmpty(first) ? "" : ": " + Clip(first))}{hint}");
            }

            var report = await JsonSerializer.DeserializeAsync<ServedImpactReport>(limited, Json, cancellationToken).ConfigureAwait(false);
            return report is null
                ? new ServedImpactResult(null, $"{Redact(url)}: empty answer")
                : new ServedImpactResult(report, null);
        }
        catch (JsonException ex)
        {
            return new ServedImpactResult(null, $"{Redact(url)}: not an impact report: {Clip(ex.Message)}");
        }
        catch (HttpRequestException ex)
        {
            return new ServedImpactResult(null, $"{Redact(url)}: {Clip(ex.Message)}");
        }
        catch (IOException ex)
        {
            return new ServedImpactResult(null, $"{Redact(url)}: {Clip(ex.Message)}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ServedImpactResult(null, $"{Redact(url)}: no answer in time");
        }
    }

    /// <summary>PROXY/admin/impact[?since=…] (the proxy's own path kept).</summary>
    public static Uri ImpactUrl(Uri proxy, string? since)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var builder = new UriBuilder(proxy) { Query = since is null ? "" : "since=" + Uri.EscapeDataString(since.Trim()) };
        builder.Path = builder.Path.TrimEnd('/') + "/admin/impact";
        return builder.Uri;
    }

    private static string Redact(Uri url) => Warren.Protocol.GoProxy.GoProxyClient.Redact(url);

    private static string Clip(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= 300 ? line : line[..300] + "…";
    }

    internal static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}

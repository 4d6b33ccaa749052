using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Connections.Features;
using Warren.Server.Auth;
using Warren.Server.Mirror;
using Warren.Server.Upstream;

namespace Warren.Server.Endpoints;

/// <summary>/readyz as JSON (asked for with ?format=json or Accept: application/json): the readiness line's status and
/// reason, each upstream proxy's circuit breaker, and where following each feed stands. Upstream and feed names are
/// redacted (no credentials). With an auth file the details are shown only on the admin listener, as /metrics is.</summary>
public static class ReadinessReport
{
    public static bool Wanted(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return string.Equals(request.Query["format"], "json", StringComparison.OrdinalIgnoreCase) ||
            request.Headers.Accept.Any(a => a?.Contains("application/json", StringComparison.OrdinalIgnoreCase) == true);
    }

    public static IResult Render(HttpContext context, string? reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        var services = context.RequestServices;
        var admin = context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(AccessControl.AdminConnectionItem) == true;
        var details = admin || services.GetService<AuthStore>() is not { Enabled: true };
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("status", reason is null ? "ready" : "not ready");
            json.WriteString("reason", reason);
            if (details)
            {
                json.WriteStartArray("upstreams");
                foreach (var breaker in services.GetRequiredService<UpstreamChain>().Breakers)
                {
                    WriteUpstream(json, breaker.Snapshot());
                }

                json.WriteEndArray();
                json.WriteStartArray("follow");
                foreach (var feed in services.GetRequiredService<FeedFollower>().Status)
                {
                    WriteFeed(json, feed);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        context.Items.TryAdd(ProxyEndpoints.RouteItem, "ready");
        context.Response.Headers.CacheControl = "no-store";
        return Results.Text(System.Text.Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length), "application/json", System.Text.Encoding.UTF8, reason is null ? 200 : 503);
    }

    private static void WriteUpstream(Utf8JsonWriter json, BreakerSnapshot b)
    {
        json.WriteStartObject();
        json.WriteString("upstream", b.Upstream);
        json.WriteString("state", b.State == BreakerState.Closed ? "closed" : "open");
        json.WriteBoolean("up", b.State == BreakerState.Closed);
        json.WriteNumber("consecutiveFailures", b.ConsecutiveFailures);
        json.WriteString("lastError", b.LastError);
        WriteTime(json, "openedAt", b.OpenedAt);
        WriteTime(json, "nextProbe", b.NextProbe);
        json.WriteNumber("cooldownSeconds", b.Cooldown.TotalSeconds);
        json.WriteNumber("timesOpened", b.Opened);
        json.WriteEndObject();
    }

    private static void WriteFeed(Utf8JsonWriter json, FeedStatus f)
    {
        json.WriteStartObject();
        json.WriteString("feed", f.Feed);
        json.WriteString("cursor", f.Cursor);
        json.WriteNumber("lagSeconds", f.LagSeconds);
        json.WriteString("lastError", f.LastError);
        json.WriteNumber("failedVersions", f.FailedVersions);
        WriteTime(json, "lastPass", f.LastPass);
        json.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } t)
        {
            json.WriteString(name, t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }
}

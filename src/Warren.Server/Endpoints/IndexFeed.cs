using System.Globalization;
using System.Text;
using System.Text.Json;
using Warren.Server.Auth;

namespace Warren.Server.Endpoints;

/// <summary>GET /index?since=RFC3339&amp;limit=N in index.golang.org's format: JSON lines {"Path","Version","Timestamp"},
/// ascending by the time each version was first stored on this node (or cluster), since inclusive, limit 2000 by
/// default and at most. Every version has a timestamp of its own, so paging by the last one never skips or repeats a
/// version. A client sees only the module paths it may read.</summary>
public static class IndexFeed
{
    /// <summary>The default and largest page.</summary>
    public const int MaxLimit = 2000;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<IResult> HandleAsync(HttpContext context, IModuleIndex index)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(index);
        context.Items[ProxyEndpoints.RouteItem] = "index";
        context.Response.Headers.CacheControl = "no-cache";
        var query = context.Request.Query;
        var since = DateTimeOffset.UnixEpoch;
        if (query["since"] is { Count: > 0 } sinceText && !TryParseTime(sinceText[0], out since))
        {
            return Results.Text($"invalid since: want an RFC 3339 time such as 2019-04-10T19:08:52.997264Z, not {ProxyRequestParser.Printable(sinceText[0] ?? "")}\n",
                "text/plain; charset=utf-8", Encoding.UTF8, StatusCodes.Status400BadRequest);
        }

        var limit = MaxLimit;
        if (query["limit"] is { Count: > 0 } limitText &&
            (!int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
        {
            return Results.Text($"invalid limit: want a whole number from 1 to {MaxLimit}\n", "text/plain; charset=utf-8", Encoding.UTF8, StatusCodes.Status400BadRequest);
        }

        limit = Math.Min(limit, MaxLimit);
        var readable = context.Items[AccessControl.ReadableItem] as Func<string, bool> ?? (_ => true);
        var entries = await ReadAsync(index, since, limit, readable, context.RequestAborted).ConfigureAwait(false);
        var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body, WriterOptions))
        {
            foreach (var entry in entries)
            {
                writer.WriteStartObject();
                writer.WriteString("Path", entry.ModulePath);
                writer.WriteString("Version", entry.Version);
                writer.WriteString("Timestamp", FormatTime(entry.Timestamp));
                writer.WriteEndObject();
                writer.Flush();
                body.WriteByte((byte)'\n');
                writer.Reset();
            }
        }

        return Results.Bytes(body.ToArray(), "application/json; charset=utf-8");
    }

    /// <summary>Up to limit readable entries from since on: pages of the index are read until enough pass the filter or
    /// the feed ends (entries the client may not read are skipped, not counted).</summary>
    private static async Task<List<FeedEntry>> ReadAsync(IModuleIndex index, DateTimeOffset since, int limit, Func<string, bool> readable, CancellationToken cancellationToken)
    {
        var result = new List<FeedEntry>(Math.Min(limit, 256));
        while (result.Count < limit)
        {
            var page = await index.ReadFeedAsync(since, limit, cancellationToken).ConfigureAwait(false);
            result.AddRange(page.Where(e => readable(e.ModulePath)).Take(limit - result.Count));
            if (page.Count < limit)
            {
                break;
            }

            since = page[^1].Timestamp.AddTicks(10);
        }

        return result;
    }

    /// <summary>RFC 3339 with up to microseconds, trailing zeros dropped, as Go's RFC3339Nano writes it.</summary>
    public static string FormatTime(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        var micros = (utc.Ticks % TimeSpan.TicksPerSecond) / 10;
        return micros == 0 ? text + "Z" : text + "." + micros.ToString("D6", CultureInfo.InvariantCulture).TrimEnd('0') + "Z";
    }

    /// <summary>An RFC 3339 time (any offset, up to nanoseconds: below a microsecond is dropped).</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset time)
    {
        time = default;
        if (string.IsNullOrEmpty(text) || text.Length > 40 || !char.IsAsciiDigit(text[0]))
        {
            return false;
        }

        // .NET reads at most 7 fractional digits: cut nanoseconds to microseconds first.
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            if (end - dot - 1 > 6)
            {
                text = text[..(dot + 7)] + text[end..];
            }
        }

        return DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFK"], CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal, out time);
    }
}

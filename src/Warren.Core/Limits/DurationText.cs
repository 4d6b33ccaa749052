using System.Globalization;

namespace Warren.Core.Limits;

/// <summary>A period written the short way: "400d", "12w", "36h", "90m", "30s", or a .NET TimeSpan ("400.00:00:00").</summary>
public static class DurationText
{
    /// <summary>Parses text; false with a one-line error when it is not a positive period.</summary>
    public static bool TryParse(string? text, out TimeSpan period, out string? error)
    {
        period = default;
        error = null;
        var s = text?.Trim() ?? "";
        if (s.Length == 0)
        {
            error = "empty period (want e.g. 90d, 12w, 36h)";
            return false;
        }

        var unit = char.ToLowerInvariant(s[^1]);
        if (unit is 'd' or 'w' or 'h' or 'm' or 's' && s.Length > 1 &&
            long.TryParse(s.AsSpan(0, s.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 100_000_000)
        {
            period = unit switch
            {
                'w' => TimeSpan.FromDays(n * 7),
                'd' => TimeSpan.FromDays(n),
                'h' => TimeSpan.FromHours(n),
                'm' => TimeSpan.FromMinutes(n),
                _ => TimeSpan.FromSeconds(n),
            };
        }
        else if (!TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out period))
        {
            error = $"\"{s}\" is not a period (want e.g. 90d, 12w, 36h, or 90.00:00:00)";
            return false;
        }

        if (period <= TimeSpan.Zero)
        {
            error = $"\"{s}\" is not a positive period";
            return false;
        }

        return true;
    }

    /// <summary>"90d" for whole days, else the TimeSpan's invariant form.</summary>
    public static string Format(TimeSpan period) =>
        period.Ticks % TimeSpan.TicksPerDay == 0 ? ((long)period.TotalDays).ToString(CultureInfo.InvariantCulture) + "d" : period.ToString("c", CultureInfo.InvariantCulture);
}

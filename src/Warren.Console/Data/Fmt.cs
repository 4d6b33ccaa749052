using System.Globalization;

namespace Warren.WebConsole.Data;

/// <summary>How numbers, sizes and times read on the console's pages (invariant culture, UTC).</summary>
public static class Fmt
{
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Percent(double ratio) => (ratio * 100).ToString(ratio is > 0 and < 0.1 ? "0.0" : "0", CultureInfo.InvariantCulture) + " %";

    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return (unit == 0 ? value.ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.0", CultureInfo.InvariantCulture)) + " " + units[unit];
    }

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan d) =>
        d.TotalSeconds < 1 ? "none" :
        d.TotalMinutes < 1 ? $"{d.TotalSeconds:0} s" :
        d.TotalHours < 1 ? $"{d.TotalMinutes:0} min" :
        d.TotalDays < 1 ? $"{d.TotalHours:0.#} h" : $"{d.TotalDays:0.#} d";
}

/// <summary>Console URLs. Module paths keep their slashes; each segment is escaped.</summary>
public static class Links
{
    public static string Module(string modulePath) => "/ui/modules/" + Escape(modulePath);

    public static string Version(string modulePath, string version) => Module(modulePath) + "/@v/" + Uri.EscapeDataString(version);

    public static string Search(string query) => "/ui/modules?q=" + Uri.EscapeDataString(query);

    private static string Escape(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}

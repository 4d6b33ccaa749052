using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Warren.Core.Impact;
using Warren.Tools.Reporting;

namespace Warren.Tools.Impact;

/// <summary>Writes a <see cref="ServedImpactReport"/>: a table on a terminal, one line per (version, client) off it,
/// or JSON (the report as the Warren gave it).</summary>
public static class ServedImpactRenderer
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void WriteJson(ServedImpactReport report, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine(JsonSerializer.Serialize(report, Json));
    }

    /// <summary>Text: the table on a terminal, plain lines elsewhere.</summary>
    public static void WriteText(ServedImpactReport report, TextWriter output, ReportStyle style)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(style);
        if (style.Terminal)
        {
            Render(report, style.CreateConsole(output));
        }
        else
        {
            WriteLines(report, output);
        }
    }

    /// <summary>"MODULE@VERSION ADVISORIES fixed FIX client NAME downloads N last TIME nodes A,B", one per (version, client),
    /// then a summary line.</summary>
    public static void WriteLines(ServedImpactReport report, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        foreach (var version in report.Versions)
        {
            var advisories = Advisories(version);
            var fix = Fixed(version);
            foreach (var client in version.Clients)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{version.Module}@{version.Version} {advisories} fixed {fix} client {client.Client} downloads {client.Downloads} last {client.LastDownload.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} nodes {string.Join(',', client.Nodes)}"));
            }
        }

        output.WriteLine(Summary(report));
    }

    /// <summary>"3 affected versions downloaded by 2 clients since 2026-09-06", or why nothing could be found.</summary>
    public static string Summary(ServedImpactReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var since = report.Since.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (!report.DatabaseAvailable)
        {
            return $"no vulnerability database is loaded in this Warren: no affected version can be found (downloads since {since})";
        }

        var clients = report.Versions.SelectMany(v => v.Clients).Select(c => c.Client).Distinct(StringComparer.Ordinal).Count();
        return string.Create(CultureInfo.InvariantCulture,
            $"{report.Versions.Count} affected {(report.Versions.Count == 1 ? "version" : "versions")} downloaded by {clients} {(clients == 1 ? "client" : "clients")} since {since}");
    }

    private static void Render(ServedImpactReport report, IAnsiConsole console)
    {
        if (report.Versions.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).Expand();
            table.AddColumn(new TableColumn("module@version").NoWrap());
            table.AddColumn("advisories");
            table.AddColumn(new TableColumn("fixed").NoWrap());
            table.AddColumn(new TableColumn("client").NoWrap());
            table.AddColumn(new TableColumn("downloads").RightAligned());
            table.AddColumn(new TableColumn("last download").NoWrap());
            table.AddColumn("nodes");
            foreach (var version in report.Versions)
            {
                var first = true;
                foreach (var client in version.Clients)
                {
                    table.AddRow(
                        Markup.Escape(first ? version.Module + "@" + version.Version : ""),
                        Markup.Escape(first ? Advisories(version) : ""),
                        Markup.Escape(first ? Fixed(version) : ""),
                        Markup.Escape(client.Client),
                        client.Downloads.ToString(CultureInfo.InvariantCulture),
                        Markup.Escape(ServedImpactClient.Time(client.LastDownload)),
                        Markup.Escape(string.Join(", ", client.Nodes)));
                    first = false;
                }
            }

            console.Write(table);
        }

        console.WriteLine(Summary(report));
    }

    private static string Advisories(AffectedServedVersion version) =>
        string.Join(',', version.Advisories.Select(a => a.Aliases.Count == 0 ? a.Id : a.Id + "(" + string.Join(',', a.Aliases) + ")"));

    private static string Fixed(AffectedServedVersion version) =>
        version.Advisories.Select(a => a.Fixed).OfType<string>().Distinct(StringComparer.Ordinal).ToList() is { Count: > 0 } fixes ? string.Join(',', fixes) : "none";
}

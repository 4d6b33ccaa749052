using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Warren.Tools.Reporting;

/// <summary>The verdict of one check or finding.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Verdict>))]
public enum Verdict
{
    Pass,
    Warn,
    Fail,
}

/// <summary>One line of a report: what was checked (or found), the verdict, the evidence, and how to fix it.</summary>
/// <param name="Check">A stable identifier of the check or the kind of finding, e.g. "env.goproxy", "cache.zip-hash".</param>
/// <param name="Verdict">Pass, Warn or Fail.</param>
/// <param name="Evidence">What was seen, one line.</param>
/// <param name="Fix">What to do about it, one line (null when nothing is to be done).</param>
/// <param name="Subject">What it is about when not the machine as a whole: a module@version, a file, a URL.</param>
public sealed record Finding(string Check, Verdict Verdict, string Evidence, string? Fix = null, string? Subject = null);

/// <summary>What a verb found, rendered as a table for people or JSON for CI, and mapped to an exit code.</summary>
public sealed record Report(string Command, IReadOnlyList<Finding> Findings)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The worst verdict (Pass for an empty report).</summary>
    public Verdict Worst => Findings.Count == 0 ? Verdict.Pass : Findings.Max(f => f.Verdict);

    public int Count(Verdict verdict) => Findings.Count(f => f.Verdict == verdict);

    /// <summary>0 when everything passed, 1 with warnings, 2 with failures.</summary>
    public int ExitCode => Worst switch
    {
        Verdict.Fail => ReportExitCodes.Failures,
        Verdict.Warn => ReportExitCodes.Warnings,
        _ => ReportExitCodes.Ok,
    };

    /// <summary>{"command": …, "summary": {"pass": n, "warn": n, "fail": n}, "exitCode": n, "findings": […]}.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        command = Command,
        summary = new { pass = Count(Verdict.Pass), warn = Count(Verdict.Warn), fail = Count(Verdict.Fail) },
        exitCode = ExitCode,
        findings = Findings,
    }, Json);

    /// <summary>A table (verdict, check, subject, evidence, fix) and a one-line summary.</summary>
    public void Render(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("");
        table.AddColumn("check");
        table.AddColumn("evidence");
        table.AddColumn("fix");
        foreach (var f in Findings)
        {
            var mark = f.Verdict switch
            {
                Verdict.Pass => "[green]PASS[/]",
                Verdict.Warn => "[yellow]WARN[/]",
                _ => "[red]FAIL[/]",
            };
            var check = f.Subject is null ? Markup.Escape(f.Check) : $"{Markup.Escape(f.Check)}\n[grey]{Markup.Escape(f.Subject)}[/]";
            table.AddRow(new Markup(mark), new Markup(check), new Text(f.Evidence), new Text(f.Fix ?? ""));
        }

        if (Findings.Count > 0)
        {
            console.Write(table);
        }

        console.MarkupLine($"{Markup.Escape(Command)}: [green]{Count(Verdict.Pass)} passed[/], [yellow]{Count(Verdict.Warn)} warnings[/], [red]{Count(Verdict.Fail)} failures[/]");
    }
}

/// <summary>The exit codes of the report verbs (doctor, verify, prefetch, explain).</summary>
public static class ReportExitCodes
{
    public const int Ok = 0;
    public const int Warnings = 1;
    public const int Failures = 2;
}

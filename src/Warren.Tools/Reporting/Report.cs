using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Rendering;

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

/// <summary>What a verb found, rendered as a table for people on a terminal, as one line per finding for files, pipes
/// and CI logs, or as JSON, and mapped to an exit code.</summary>
public sealed partial record Report(string Command, IReadOnlyList<Finding> Findings)
{
    /// <summary>Stands for an empty field of a plain line.</summary>
    public const string EmptyField = "-";

    private const int StackIndent = 6;

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

    /// <summary>The table on a terminal (<see cref="Render"/>), one line per finding elsewhere (<see cref="WriteLines"/>).</summary>
    public void Write(TextWriter output, ReportStyle style)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(style);
        if (style.Terminal)
        {
            Render(style.CreateConsole(output));
        }
        else
        {
            WriteLines(output, style.Color);
        }
    }

    /// <summary>
    /// One line per finding, never wrapped, for files, pipes and CI logs: five fields separated by a tab,
    /// <c>VERDICT	CHECK	SUBJECT	EVIDENCE	FIX</c> (VERDICT is PASS, WARN or FAIL; an empty field is "-"; tabs,
    /// line breaks and other control characters inside a field become spaces), then the summary line
    /// <c>COMMAND: n passed, n warnings, n failures</c>. With <paramref name="color"/> only the verdict and the summary
    /// counts are coloured (ANSI SGR).
    /// </summary>
    public void WriteLines(TextWriter output, bool color)
    {
        ArgumentNullException.ThrowIfNull(output);
        var line = new StringBuilder();
        foreach (var f in Findings)
        {
            line.Clear();
            line.Append(Paint(VerdictWord(f.Verdict), f.Verdict, color)).Append('\t')
                .Append(Field(f.Check)).Append('\t')
                .Append(Field(f.Subject)).Append('\t')
                .Append(Field(f.Evidence)).Append('\t')
                .Append(Field(f.Fix));
            output.WriteLine(line.ToString());
        }

        output.WriteLine($"{OneLine(Command)}: {Paint($"{Count(Verdict.Pass)} passed", Verdict.Pass, color)}, "
            + $"{Paint($"{Count(Verdict.Warn)} warnings", Verdict.Warn, color)}, {Paint($"{Count(Verdict.Fail)} failures", Verdict.Fail, color)}");
    }

    /// <summary>
    /// A table (verdict, check, subject, evidence, fix) and a one-line summary, for a terminal. The subject column never
    /// wraps; evidence and fix wrap instead. When the console is too narrow for every subject to stay whole in the table,
    /// each finding is stacked instead: verdict, check and subject on one line (never folded), evidence and fix indented
    /// below it.
    /// </summary>
    public void Render(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        if (Findings.Count > 0)
        {
            var table = Table();
            if (SubjectsStayWhole(table, console.Profile.Width))
            {
                console.Write(table);
            }
            else
            {
                Stack(console);
            }
        }

        console.MarkupLine($"{Markup.Escape(OneLine(Command))}: [green]{Count(Verdict.Pass)} passed[/], [yellow]{Count(Verdict.Warn)} warnings[/], [red]{Count(Verdict.Fail)} failures[/]");
    }

    private Table Table()
    {
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("");
        table.AddColumn(new TableColumn("check").NoWrap());
        table.AddColumn(new TableColumn("subject").NoWrap());
        table.AddColumn("evidence");
        table.AddColumn("fix");
        foreach (var f in Findings)
        {
            table.AddRow(
                new Markup(Mark(f.Verdict)),
                new Text(OneLine(f.Check)),
                new Text(OneLine(f.Subject ?? "")),
                new Text(OneLine(f.Evidence)),
                new Text(OneLine(f.Fix ?? "")));
        }

        return table;
    }

    /// <summary>Renders the table off-screen at this width and looks for every subject whole on one line.</summary>
    private bool SubjectsStayWhole(Table table, int width)
    {
        var subjects = Findings.Select(f => OneLine(f.Subject ?? "")).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (subjects.Count == 0)
        {
            return true;
        }

        using var text = new StringWriter();
        var probe = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(text),
        });
        probe.Profile.Width = width;
        probe.Write(table);
        var lines = text.ToString().Split('\n');
        return subjects.TrueForAll(s => lines.Any(l => l.Contains(s, StringComparison.Ordinal)));
    }

    /// <summary>Verdict, check and subject on a line of their own (the terminal, not this code, may fold it), then the
    /// evidence and the fix wrapped and indented.</summary>
    private void Stack(IAnsiConsole console)
    {
        var raw = console.Profile.Out.Writer;
        foreach (var f in Findings)
        {
            console.Markup(Mark(f.Verdict));
            raw.Write("  " + OneLine(f.Check));
            if (f.Subject is { Length: > 0 })
            {
                raw.Write("  " + OneLine(f.Subject));
            }

            raw.WriteLine();
            var rows = new List<IRenderable> { new Text(OneLine(f.Evidence)) };
            if (f.Fix is { Length: > 0 })
            {
                rows.Add(new Text("fix: " + OneLine(f.Fix)));
            }

            console.Write(new Padder(new Rows(rows), new Padding(StackIndent, 0, 0, 0)));
        }
    }

    [GeneratedRegex(@"\u001b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")]
    private static partial Regex AnsiSequence();

    private static string Mark(Verdict verdict) => verdict switch
    {
        Verdict.Pass => "[green]PASS[/]",
        Verdict.Warn => "[yellow]WARN[/]",
        _ => "[red]FAIL[/]",
    };

    private static string VerdictWord(Verdict verdict) => verdict switch
    {
        Verdict.Pass => "PASS",
        Verdict.Warn => "WARN",
        _ => "FAIL",
    };

    private static string Paint(string text, Verdict verdict, bool color) => !color ? text : verdict switch
    {
        Verdict.Pass => "\u001b[32m" + text + "\u001b[0m",
        Verdict.Warn => "\u001b[33m" + text + "\u001b[0m",
        _ => "\u001b[31m" + text + "\u001b[0m",
    };

    private static string Field(string? value)
    {
        var text = OneLine(value ?? "").Trim();
        return text.Length == 0 ? EmptyField : text;
    }

    /// <summary>ANSI escape sequences (a coloured build log quoted as evidence) are dropped; other control characters
    /// (tabs, line breaks) become spaces.</summary>
    private static string OneLine(string value)
    {
        if (!value.Any(char.IsControl))
        {
            return value;
        }

        value = AnsiSequence().Replace(value, "");

        return string.Create(value.Length, value, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        });
    }
}

/// <summary>The exit codes of the report verbs (doctor, verify, prefetch, explain).</summary>
public static class ReportExitCodes
{
    public const int Ok = 0;
    public const int Warnings = 1;
    public const int Failures = 2;
}

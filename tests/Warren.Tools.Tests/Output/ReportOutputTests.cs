using Spectre.Console;
using Warren.Tools.Reporting;

namespace Warren.Tools.Tests.Output;

/// <summary>The renderers of a report: plain lines for files, pipes and CI logs; the table for a terminal.</summary>
public sealed class ReportOutputTests
{
    public const string Long = "github.com/some-long-organisation-name/some-long-repository-name@v1.2.3";

    private static readonly Report Sample = new("verify",
    [
        new Finding("cache.zip-hash", Verdict.Fail, "zip hash h1:AAAA differs from\tthe .ziphash\nh1:BBBB (\u001b[31mred\u001b[0m)", "go clean -modcache, then go mod download " + Long, Long),
        new Finding("gosum.not-in-cache", Verdict.Warn, "go.sum:1: not in the module cache", null, "github.com/x/y@v0.1.0"),
        new Finding("verify.summary", Verdict.Fail, "problems in 2 of 2 module versions"),
    ]);

    [Fact]
    public void Plain_lines_have_one_line_per_finding_five_tab_separated_fields_and_no_escape_codes()
    {
        using var output = new StringWriter();
        Sample.WriteLines(output, color: false);
        var text = output.ToString();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.DoesNotContain('\u001b', text);
        Assert.Equal(Sample.Findings.Count + 1, lines.Length);
        Assert.All(lines[..^1], l => Assert.Equal(5, l.Split('\t').Length));
        Assert.Equal(["FAIL", "cache.zip-hash", Long, "zip hash h1:AAAA differs from the .ziphash h1:BBBB (red)", "go clean -modcache, then go mod download " + Long], lines[0].Split('\t'));
        Assert.Equal(["WARN", "gosum.not-in-cache", "github.com/x/y@v0.1.0", "go.sum:1: not in the module cache", "-"], lines[1].Split('\t'));
        Assert.Equal(["FAIL", "verify.summary", "-", "problems in 2 of 2 module versions", "-"], lines[2].Split('\t'));
        Assert.Equal("verify: 0 passed, 1 warnings, 2 failures", lines[3]);
    }

    [Fact]
    public void Plain_lines_with_colour_colour_only_the_verdict()
    {
        using var output = new StringWriter();
        Sample.WriteLines(output, color: true);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(Sample.Findings.Count + 1, lines.Length);
        Assert.StartsWith("\u001b[31mFAIL\u001b[0m\tcache.zip-hash\t" + Long + "\t", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("\u001b[33mWARN\u001b[0m\t", lines[1], StringComparison.Ordinal);
        Assert.Contains("\u001b[31m2 failures\u001b[0m", lines[3], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(120, null)]
    [InlineData(80, false)]
    [InlineData(40, false)]
    public void The_terminal_table_never_cuts_a_module_version(int columns, bool? table)
    {
        var style = ReportStyle.Detect(ColorMode.Never, outputRedirected: false, Env(("COLUMNS", columns.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(columns, style.Width);
        using var output = new StringWriter();
        Sample.Write(output, style);
        var lines = output.ToString().Split('\n');

        // The subject is whole on one line, on the same line as its verdict.
        var line = Assert.Single(lines, l => l.Contains(Long, StringComparison.Ordinal) && l.Contains("FAIL", StringComparison.Ordinal));
        Assert.Contains("cache.zip-hash", line, StringComparison.Ordinal);
        Assert.Single(lines, l => l.Contains("github.com/x/y@v0.1.0", StringComparison.Ordinal) && l.Contains("WARN", StringComparison.Ordinal));

        // A table (box drawing) when it is wide enough for every subject, otherwise each finding stacked; either way
        // the table stays within the width (a stacked header line may be longer: the terminal folds it, not us).
        if (table is { } expected)
        {
            Assert.Equal(expected, output.ToString().Contains('│', StringComparison.Ordinal));
        }

        Assert.All(lines.Where(l => !l.StartsWith("FAIL", StringComparison.Ordinal) && !l.StartsWith("WARN", StringComparison.Ordinal)), l => Assert.True(l.TrimEnd('\r').Length <= columns, $"{l.Length} > {columns}: {l}"));
        Assert.DoesNotContain('\u001b', output.ToString());
        Assert.Contains("verify: 0 passed, 1 warnings, 2 failures", lines);
    }

    [Fact]
    public void The_old_80_column_table_cut_the_module_version_and_the_new_one_does_not()
    {
        // What the issue saw: without a whole subject column, 80 columns fold the module@version.
        using var old = new StringWriter();
        var console = Console(old, 80);
        var table = new Table().Expand();
        table.AddColumn("");
        table.AddColumn("check");
        table.AddColumn("evidence");
        table.AddRow("FAIL", "cache.zip-hash\n" + Long, "evidence");
        console.Write(table);
        Assert.DoesNotContain(Long, old.ToString(), StringComparison.Ordinal);

        using var now = new StringWriter();
        Sample.Render(Console(now, 80));
        Assert.Contains(Long, now.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Colour_follows_the_flag_then_no_color_then_the_terminal()
    {
        Assert.Equal(new ReportStyle(false, false, null), ReportStyle.Detect(ColorMode.Auto, outputRedirected: true, Env()));
        Assert.Equal(new ReportStyle(true, true, null), ReportStyle.Detect(ColorMode.Auto, outputRedirected: false, Env()));
        Assert.False(ReportStyle.Detect(ColorMode.Auto, false, Env(("NO_COLOR", "1"))).Color);
        Assert.True(ReportStyle.Detect(ColorMode.Auto, false, Env(("NO_COLOR", ""))).Color); // only a non-empty value counts
        Assert.False(ReportStyle.Detect(ColorMode.Auto, false, Env(("TERM", "dumb"))).Color);
        Assert.True(ReportStyle.Detect(ColorMode.Always, true, Env(("NO_COLOR", "1"))).Color);
        Assert.False(ReportStyle.Detect(ColorMode.Never, false, Env()).Color);
        Assert.Null(ReportStyle.Detect(ColorMode.Auto, false, Env(("COLUMNS", "wide"))).Width);
        Assert.Null(ReportStyle.Detect(ColorMode.Auto, false, Env(("COLUMNS", "0"))).Width);
        Assert.Equal(132, ReportStyle.Detect(ColorMode.Auto, false, Env(("COLUMNS", "132"))).Width);
    }

    [Fact]
    public void On_a_terminal_no_color_leaves_the_table_without_escape_codes_and_always_colours_it()
    {
        using var plain = new StringWriter();
        Sample.Write(plain, ReportStyle.Detect(ColorMode.Auto, false, Env(("NO_COLOR", "1"), ("COLUMNS", "200"))));
        Assert.DoesNotContain('\u001b', plain.ToString());
        Assert.Contains('│', plain.ToString());

        using var colour = new StringWriter();
        Sample.Write(colour, ReportStyle.Detect(ColorMode.Always, false, Env(("NO_COLOR", "1"), ("COLUMNS", "200"))));
        Assert.Contains("\u001b[", colour.ToString(), StringComparison.Ordinal);
        Assert.Contains(Long, colour.ToString(), StringComparison.Ordinal);

        // Off a terminal the style picks the plain lines, coloured only when asked to.
        using var file = new StringWriter();
        Sample.Write(file, ReportStyle.Detect(ColorMode.Always, true, Env()));
        Assert.StartsWith("\u001b[31mFAIL\u001b[0m\tcache.zip-hash\t", file.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain('│', file.ToString());
    }

    private static IAnsiConsole Console(TextWriter output, int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width;
        return console;
    }

    private static Func<string, string?> Env(params (string Key, string Value)[] values) =>
        key => values.Where(v => v.Key == key).Select(v => v.Value).FirstOrDefault();
}

using System.CommandLine;
using System.CommandLine.Parsing;
using Spectre.Console;
using Warren.Tools.Reporting;

namespace Warren.Cli;

/// <summary>The output options every report verb shares (--color; --json stays with each verb) and the style they give.</summary>
internal static class ReportOutput
{
    /// <summary>What --help says about the output of a report verb.</summary>
    public const string Help = "\n" + """
        Output: on a terminal a table whose subject column (module@version) is never wrapped, COLUMNS wide if set, and
        progress bars while working (doctor, prefetch). Redirected to a file, a pipe or a CI log: no progress bars and
        one line per finding, never wrapped, five tab-separated fields VERDICT CHECK SUBJECT EVIDENCE FIX (VERDICT is
        PASS, WARN or FAIL; an empty field is -), then a summary line; so `grep module@version` and `cut -f3` work.
        Colour only on a terminal and unless NO_COLOR is set; --color always|never overrides both. --json prints JSON.
        """;

    public static Option<string> ColorOption() => new Option<string>("--color")
    {
        Description = "colour: auto (on a terminal unless NO_COLOR is set), always, never",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong("auto", "always", "never");

    /// <summary>A validator for an option that takes several values per token (--go-sum a b): a value that looks like an
    /// option (an unknown or misspelt one) is refused with its name instead of being taken as a value.</summary>
    public static void NoOptionsAsValues(OptionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        foreach (var token in result.Tokens)
        {
            if (token.Value.Length > 1 && token.Value[0] == '-')
            {
                result.AddError($"{result.Option.Name}: {token.Value} is not a value but looks like an option (unknown to this verb); give a file named like that as ./{token.Value}");
                return;
            }
        }
    }

    /// <summary>The style for this process's standard output.</summary>
    public static ReportStyle Style(ParseResult parse, Option<string> color)
    {
        var mode = parse.GetValue(color) switch
        {
            "always" => ColorMode.Always,
            "never" => ColorMode.Never,
            _ => ColorMode.Auto,
        };
        return ReportStyle.Detect(mode, Console.IsOutputRedirected, Environment.GetEnvironmentVariable);
    }

    /// <summary>Runs work under the progress bars of a report verb (description, bar, percentage, elapsed time).</summary>
    public static Task<T> WithProgressAsync<T>(ReportStyle style, Func<ProgressContext, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(style);
        return style.CreateConsole(Console.Out).Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(work);
    }

    /// <summary>Prints a report to standard output, as JSON or in the given style; returns its exit code.</summary>
    public static async Task<int> WriteAsync(Report report, bool json, ReportStyle style)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (json)
        {
            await Console.Out.WriteLineAsync(report.ToJson()).ConfigureAwait(false);
        }
        else
        {
            report.Write(Console.Out, style);
        }

        return report.ExitCode;
    }
}

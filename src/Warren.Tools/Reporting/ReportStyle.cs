using System.Globalization;
using Spectre.Console;

namespace Warren.Tools.Reporting;

/// <summary>--color: auto (colour on a terminal unless NO_COLOR is set), always, never.</summary>
public enum ColorMode
{
    Auto,
    Always,
    Never,
}

/// <summary>How a report verb writes to its output.</summary>
/// <param name="Terminal">The output is a terminal: a table, and progress bars while working. Elsewhere (a file, a
/// pipe, a CI log) one line per finding and no progress bars.</param>
/// <param name="Color">ANSI colours.</param>
/// <param name="Width">The terminal width from COLUMNS, when set; otherwise the terminal's own.</param>
public sealed record ReportStyle(bool Terminal, bool Color, int? Width)
{
    /// <summary>--color always and never win over NO_COLOR (any non-empty value), which wins over auto-detection (colour
    /// on a terminal whose TERM is not "dumb").</summary>
    public static ReportStyle Detect(ColorMode color, bool outputRedirected, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var noColor = environment("NO_COLOR") is { Length: > 0 };
        var useColor = color switch
        {
            ColorMode.Always => true,
            ColorMode.Never => false,
            _ => !outputRedirected && !noColor && environment("TERM") != "dumb",
        };
        int? width = int.TryParse(environment("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var columns) && columns is > 0 and <= 10_000
            ? columns
            : null;
        return new ReportStyle(!outputRedirected, useColor, width);
    }

    /// <summary>A console writing to <paramref name="output"/> with these settings: interactive only on a terminal;
    /// colour codes only with <see cref="Color"/>. (Spectre's console without ANSI support would set the colours of
    /// System.Console instead, which writes escape codes of its own.)</summary>
    public IAnsiConsole CreateConsole(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = Color || Terminal ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = Color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Interactive = Terminal ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        if (Width is { } width)
        {
            console.Profile.Width = width;
        }

        return console;
    }
}

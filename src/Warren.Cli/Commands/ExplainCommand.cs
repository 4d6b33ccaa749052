using System.CommandLine;
using Warren.Tools.Explain;

namespace Warren.Cli.Commands;

/// <summary>`warren explain [FILE|-]`: the cause and fix of every failure in a go or Docker build log.</summary>
public sealed class ExplainCommand : Command
{
    private readonly Argument<string?> _file = new("FILE") { Description = "the log to read; - or nothing for stdin", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<int?> _exitCode = new("--exit-code") { Description = "the exit code of the command that printed the log (0 makes Error fields of a -json stream a false success)" };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<string> _color = ReportOutput.ColorOption();

    public ExplainCommand()
        : base("explain", """
            Explain the failures in the output of go mod download (-json), go build, go get or a Docker build log.

            Each failure gets a classification, the module it concerns, the offending line and a fix:
            net.refused, net.dns, net.timeout, net.tls, auth, notfound, gone, version.unknown-revision,
            version.invalid, proxy.error, checksum.mismatch, sumdb.unreachable, sumdb.private-path, disk.full,
            gosum.missing, gomod.missing-requirement, false-success (Error fields in a -json stream of a command
            that exited 0), unknown (a go error line not recognised), exit.unexplained (--exit-code not 0, nothing
            recognised). BuildKit prefixes ("#8 12.34 ") and classic builder status lines are ignored.
            Exit code: 0 nothing failed, 1 only unrecognised go errors, 2 failures were found.

            Examples:
              go mod download -json 2>&1 | warren explain
              docker build --progress=plain . 2>&1 | warren explain -
              warren explain build.log --json
              warren explain download.json --exit-code 0
              warren explain build.log | grep -P '^FAIL\t'

            """ + ReportOutput.Help)
    {
        Add(_file);
        Add(_exitCode);
        Add(_json);
        Add(_color);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var file = parse.GetValue(_file);
        if (file is null && !Console.IsInputRedirected)
        {
            await Console.Error.WriteLineAsync("warren explain: give a log FILE, or pipe the log in (go mod download -json 2>&1 | warren explain)").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        string text;
        try
        {
            text = file is null or "-"
                ? await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false)
                : await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync("warren explain: " + e.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var report = LogExplainer.Explain(text, parse.GetValue(_exitCode));
        return await ReportOutput.WriteAsync(report, parse.GetValue(_json), ReportOutput.Style(parse, _color)).ConfigureAwait(false);
    }
}

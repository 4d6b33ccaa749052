using System.CommandLine;
using Warren.Protocol.GoProxy;
using Warren.Tools;
using Warren.Tools.Audit;
using Warren.Tools.Impact;

namespace Warren.Cli.Commands;

/// <summary>`warren audit`: vulnerable, retracted, deprecated and drifting module versions across repositories.</summary>
public sealed class AuditCommand : Command
{
    private readonly Argument<string[]> _inputs = new("DIR|go.mod|go.work")
    {
        Description = "repositories: a directory (its go.work if it has one, else its go.mod), a go.mod, or a go.work",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private readonly Option<string?> _proxy = new("--proxy") { Description = "the GOPROXY to ask (http, https or file URL; default: the first URL of $GOPROXY)" };
    private readonly Option<string?> _vulnDb = new("--vulndb") { Description = "the Go vulnerability database, current layout (http, https or file URL; default: PROXY/vuln, a Warren's mirror), or off" };
    private readonly Option<string> _format = new Option<string>("--format")
    {
        Description = "text (a table on a terminal, one line per finding elsewhere), json or sarif (SARIF 2.1.0)",
        DefaultValueFactory = _ => "text",
    }.AcceptOnlyFromAmong("text", "json", "sarif");

    private readonly Option<string> _failOn = new Option<string>("--fail-on")
    {
        Description = "exit 1 when a finding is at or above this level: vuln, retracted, deprecated, drift (in that order), or none",
        DefaultValueFactory = _ => "vuln",
    }.AcceptOnlyFromAmong("vuln", "retracted", "deprecated", "drift", "none");

    private readonly Option<bool> _json = new("--json") { Description = "the same as --format json" };
    private readonly Option<int> _jobs = new("--jobs") { Description = "requests to the proxy and the database at once (default 16)", DefaultValueFactory = _ => 16 };
    private readonly Option<string> _color = ReportOutput.ColorOption();
    private readonly Option<bool> _served = new("--served") { Description = "instead of repositories: every version the Warren at --proxy served that an advisory affects, with the clients that downloaded it (an admin token in WARREN_TOKEN when it has an auth file)" };
    private readonly Option<string?> _since = new("--since") { Description = "with --served: downloads within this window, e.g. 90d (default: the Warren's whole retention window)" };

    public AuditCommand()
        : base("audit", """
            Audit the dependencies of one repository or many, against a Warren (or any GOPROXY) and the Go vulnerability
            database it mirrors. For each repository it reports, from the requirement list of its go.mod (Go 1.17 and later
            list the whole build list there; replace directives applied; this is not a recomputation of the build list):
              vuln        module versions an advisory affects: its ID and aliases, the fixed version, whether the
                          repository's own Go files import an affected package, and the smallest fixing upgrade (the lowest
                          listed version at or above the fix that no advisory affects) and whether it keeps the major version;
              retracted   versions the latest go.mod of the module retracts, with the rationale;
              deprecated  modules whose latest go.mod says "// Deprecated:", with the message;
              drift       the same module at different versions across the given repositories (a module × repository table);
              update      a higher version with the same major version (information only).
            Vulnerability findings are package-level: govulncheck adds call-graph precision (is an affected function reached?).

            Exit code: 0 when nothing is at or above --fail-on (default vuln), 1 when something is, 2 when an input, the
            proxy or the database could not be read (64 for a usage error).

            Examples:
              warren audit .
              warren audit --proxy https://warren.example.com ./service-a ./service-b ./service-c
              warren audit --fail-on retracted --format sarif go.work > audit.sarif
              warren audit --vulndb file:///srv/vulndb --proxy file:///srv/bundle --json repo/go.mod
              warren audit ./*/ > audit.txt; grep -P '^FAIL\t' audit.txt | cut -f3
              WARREN_TOKEN=… warren audit --served --since 90d --proxy https://warren.example.com

            With --served it asks a Warren which served versions advisories affect and who downloaded them (exit code 1 when
            any, 0 when none, 2 on error).

            """ + ReportOutput.Help)
    {
        Add(_inputs);
        Add(_proxy);
        Add(_vulnDb);
        Add(_format);
        Add(_failOn);
        Add(_json);
        Add(_jobs);
        Add(_color);
        Add(_served);
        Add(_since);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var jobs = parse.GetValue(_jobs);
        if (jobs < 1)
        {
            return await FailAsync("--jobs must be at least 1").ConfigureAwait(false);
        }

        var proxyText = parse.GetValue(_proxy) ?? ProxyChain.FirstProxyUrl(Environment.GetEnvironmentVariable("GOPROXY"));
        if (proxyText is null)
        {
            return await FailAsync("give --proxy URL (GOPROXY names no http, https or file URL)").ConfigureAwait(false);
        }

        if (ParseUrl(proxyText) is not { } proxy)
        {
            return await FailAsync($"--proxy {proxyText}: not an http, https or file URL").ConfigureAwait(false);
        }

        Uri? vulnDb;
        var vulnText = parse.GetValue(_vulnDb);
        if (vulnText == "off")
        {
            vulnDb = null;
        }
        else if (vulnText is null)
        {
            vulnDb = new Uri(proxy.AbsoluteUri.TrimEnd('/') + "/vuln/");
        }
        else if (ParseUrl(vulnText) is { } parsed)
        {
            vulnDb = parsed;
        }
        else
        {
            return await FailAsync($"--vulndb {vulnText}: not an http, https or file URL, nor off").ConfigureAwait(false);
        }

        var inputs = parse.GetValue(_inputs) ?? [];
        if (parse.GetValue(_served))
        {
            if (inputs.Length > 0)
            {
                return await FailAsync("--served takes no repositories").ConfigureAwait(false);
            }

            var json = parse.GetValue(_json) || parse.GetValue(_format) == "json";
            return await ServedImpactRun.RunAsync(ToolHttp.Shared.CreateClient(ToolHttp.Audit), proxy, parse.GetValue(_since),
                Environment.GetEnvironmentVariable("WARREN_TOKEN"), json, ReportOutput.Style(parse, _color), Console.Out, Console.Error,
                cancellationToken).ConfigureAwait(false);
        }

        if (inputs.Length == 0)
        {
            return await FailAsync("give at least one repository (a directory, go.mod or go.work), or --served").ConfigureAwait(false);
        }

        AuditKinds.TryParseLevel(parse.GetValue(_failOn) ?? "vuln", out var failOn);
        var format = parse.GetValue(_json) ? AuditFormat.Json : parse.GetValue(_format) switch
        {
            "json" => AuditFormat.Json,
            "sarif" => AuditFormat.Sarif,
            _ => AuditFormat.Text,
        };

        var http = ToolHttp.Shared.CreateClient(ToolHttp.Audit);
        var result = await Auditor.AuditAsync(new AuditOptions(inputs, proxy)
        {
            VulnDb = vulnDb,
            FailOn = failOn,
            Jobs = jobs,
        }, http, cancellationToken).ConfigureAwait(false);

        await AuditOutput.WriteAsync(result, format, Console.Out, ReportOutput.Style(parse, _color)).ConfigureAwait(false);
        return result.ExitCode;
    }

    private static async Task<int> FailAsync(string message)
    {
        await Console.Error.WriteLineAsync("warren audit: " + message).ConfigureAwait(false);
        return AuditExitCodes.Error;
    }

    private static Uri? ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme is "http" or "https" || uri.IsFile) ? uri : null;
}

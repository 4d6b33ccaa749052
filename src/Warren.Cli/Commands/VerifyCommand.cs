using System.CommandLine;
using Warren.Protocol.SumDb;
using Warren.Tools.GoEnv;
using Warren.Tools.Verify;

namespace Warren.Cli.Commands;

/// <summary>`warren verify`: checks the whole module cache and lists every problem.</summary>
public sealed class VerifyCommand : Command
{
    private readonly Option<string?> _modCache = new("--modcache") { Description = "the module cache to verify (default: GOMODCACHE from go env)" };
    private readonly Option<string[]> _goSum = new("--go-sum")
    {
        Description = "go.sum files whose lines are compared with the cache: --go-sum a/go.sum b/go.sum, or repeated; the list ends at the next option",
        AllowMultipleArgumentsPerToken = true,
    };

    private readonly Option<string?> _sumDb = new("--sumdb") { Description = "also look every version up in this checksum database: \"NAME[+KEY] [URL]\" or off (default off)" };
    private readonly Option<bool> _fix = new("--fix") { Description = "remove the corrupted entries and leftovers so that the go command fetches them again" };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<int> _jobs = new("--jobs") { Description = "module versions checked at once (default: processor count)", DefaultValueFactory = _ => Environment.ProcessorCount };
    private readonly Option<string> _color = ReportOutput.ColorOption();

    public VerifyCommand()
        : base("verify", """
            Verify the Go module cache: every extracted module directory and every cached zip against the .ziphash the go
            command recorded, go.mod and zip hashes against go.sum files and (optionally) a checksum database, and the
            leftovers of interrupted downloads (.partial markers, temporary files, .lock files without a download).
            Unlike `go mod verify` it checks the whole cache in parallel and lists every problem, each naming module@version.

            Exit code: 0 when all is well, 1 with warnings (also after --fix repaired something), 2 with failures.
            --fix removes exactly the broken entries (the extracted directory and/or the zip, .ziphash, .mod, .info of that
            version, and leftovers); run the go command again to fetch them. Do not run it while the go command downloads.

            Examples:
              warren verify
              warren verify --go-sum go.sum --json
              warren verify --modcache /srv/gomodcache --sumdb sum.golang.org --jobs 8
              warren verify --fix && go mod download
              warren verify --modcache /srv/gomodcache > verify.txt; grep -P '^FAIL\t' verify.txt | cut -f3

            """ + ReportOutput.Help)
    {
        Add(_modCache);
        Add(_goSum);
        Add(_sumDb);
        Add(_fix);
        Add(_json);
        Add(_jobs);
        Add(_color);
        _goSum.Validators.Add(ReportOutput.NoOptionsAsValues);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        SumDbConfig? sumDb = null;
        if (parse.GetValue(_sumDb) is { } sumDbText)
        {
            sumDb = SumDbConfig.TryParse(sumDbText, out var error);
            if (error is not null)
            {
                await Console.Error.WriteLineAsync("warren verify: " + error).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        }

        var jobs = parse.GetValue(_jobs);
        if (jobs < 1)
        {
            await Console.Error.WriteLineAsync("warren verify: --jobs must be at least 1").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var modCache = parse.GetValue(_modCache);
        var noSumDb = "";
        if (string.IsNullOrEmpty(modCache) || sumDb is not null)
        {
            var env = await GoEnvironmentSnapshot.LoadAsync(GoEnvironmentSnapshot.ProcessEnvironment(), null, cancellationToken).ConfigureAwait(false);
            modCache = string.IsNullOrEmpty(modCache) ? env["GOMODCACHE"] : modCache;

            // Private paths are never sent to the checksum database.
            noSumDb = string.Join(',', new[] { env["GOPRIVATE"], env["GONOSUMDB"] }.Where(p => p.Length > 0));
        }

        var report = await ModCacheVerifier.VerifyAsync(new VerifyOptions(modCache)
        {
            GoSumFiles = parse.GetValue(_goSum) ?? [],
            SumDb = sumDb,
            NoSumDb = noSumDb,
            Fix = parse.GetValue(_fix),
            Jobs = jobs,
        }, cancellationToken).ConfigureAwait(false);

        return await ReportOutput.WriteAsync(report, parse.GetValue(_json), ReportOutput.Style(parse, _color)).ConfigureAwait(false);
    }
}

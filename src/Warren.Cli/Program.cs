using System.CommandLine;
using Warren.Cli;
using Warren.Cli.Commands;

var root = new RootCommand("warren: a caching Go module proxy and toolkit.\n\nExamples:\n  warren serve\n  warren serve --listen 0.0.0.0:3000 --upstream https://proxy.golang.org,direct --root /var/cache/warren")
{
    new ServeCommand(),
    new SumDbCommand(),
    new TokenCommand(),
    new DoctorCommand(),
    new VerifyCommand(),
    new AuditCommand(),
    new PrefetchCommand(),
    new ExplainCommand(),
    new StoreCommand(),
    new SyncCommand(),
    new ExportCommand(),
    new ImportCommand(),
};
var parse = root.Parse(args);
var exitCode = await parse.InvokeAsync().ConfigureAwait(false);

// A usage error exits 64, never 1, which the report verbs use for "warnings".
return parse.Errors.Count > 0 ? ExitCodes.Usage : exitCode;

using System.CommandLine;
using Spectre.Console;
using Warren.Core.SumDb;
using Warren.Protocol.GoProxy;
using Warren.Protocol.SumDb;
using Warren.Tools.Bundle;
using Warren.Tools.GoEnv;

namespace Warren.Cli.Commands;

/// <summary>`warren export --out DIR INPUT...`: a bundle for an air-gapped site that the go command verifies by itself.</summary>
public sealed class ExportCommand : Command
{
    private readonly Option<string> _out = new("--out") { Description = "the bundle directory (created; an interrupted export into it resumes), or FILE.tar / FILE.tar.zst (written from FILE.tar.d / FILE.tar.zst.d)", Required = true };
    private readonly Option<string?> _proxy = new("--proxy") { Description = "the GOPROXY URL to read modules from (default: the first proxy URL of GOPROXY)" };
    private readonly Option<string?> _sumdb = new("--sumdb") { Description = "checksum database whose data goes along, \"NAME[+KEY] [URL]\" or off (default: $GOSUMDB, then sum.golang.org; URL default: PROXY/sumdb/NAME)" };
    private readonly Option<string?> _since = new("--since") { Description = "an earlier bundle (its directory or warren-bundle.json) or its cursor: carry only versions it did not" };
    private readonly Option<string?> _sign = new("--sign") { Description = "sign the manifest with this note signer key file (warren sumdb keygen writes one)" };
    private readonly Option<int> _jobs = new("--jobs") { Description = "concurrent requests", DefaultValueFactory = _ => 8 };
    private readonly Option<string?> _withVulnDb = new("--with-vulndb")
    {
        Description = "carry the Go vulnerability database as vulndb.zip, from SOURCE: a store directory (its stored copy), a vulndb.zip, file:///DIR or an http(s) URL such as https://warren.example.com/vuln (default: the stored copy of the store of a warren serve without --root); write --with-vulndb=SOURCE",
        Arity = ArgumentArity.ZeroOrOne,
        HelpName = "SOURCE",
    };
    private readonly Option<string?> _recordIn = new("--record-in") { Description = "also record this export in the bundle journal of the Warren store at DIR (its console's Sync page lists it)", HelpName = "DIR" };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<string> _color = ReportOutput.ColorOption();
    private readonly Argument<string[]> _inputs = new("INPUT") { Description = "go.mod, go.sum, go.work, module directories, or module@version", Arity = ArgumentArity.OneOrMore };

    public ExportCommand()
        : base("export", """
            Write a bundle for a site with no network: the full build list of the inputs in the GOPROXY layout
            (MODULE/@v/list, .info, .mod, .zip; the .mod of every version the requirement graph visits), the checksum
            database's data for every version (sumdb/NAME/supported, latest, lookup/MODULE@VERSION and the tiles that
            prove each lookup against latest), and warren-bundle.json listing every file with its SHA-256, the source
            and the cursor of the next incremental export.

            Every lookup is proven against the database's signed head and compared with the files written. The go
            command verifies the bundle by itself, with no Warren and no network:
              GOPROXY=file:///mnt/bundle GOSUMDB=<verifier key> GOFLAGS=-mod=mod go build ./...
            or carry it in with `warren import` and serve it with `warren serve --offline`.

            --out FILE.tar writes the same files as one tar archive, --out FILE.tar.zst as one zstd-compressed tar
            archive (`tar --zstd -xf` reads it too); warren import takes a directory or either archive.

            --with-vulndb carries the Go vulnerability database too, as vulndb.zip (the layout of vuln.go.dev's
            vulndb.zip), listed and hashed in the manifest like every other file. SOURCE is a store directory (the
            copy warren serve keeps under ROOT/.warren/vulndb), a vulndb.zip, file:///DIR (the current layout) or an
            http(s) URL serving it (a Warren's /vuln, or https://vuln.go.dev); without SOURCE, the stored copy of the
            store of a warren serve without --root. No database there: exit code 2. The flag takes the next word as
            SOURCE: write --with-vulndb=SOURCE, or put a bare --with-vulndb last. warren import installs it as the
            store's copy, which warren serve --offline serves under /vuln/ (both layouts) with no upstream.

            Exit code 0 when the bundle is complete, 2 when something failed (then no manifest is written), 64 on a
            usage error.

            Examples:
              warren export --out /mnt/usb/bundle --proxy https://warren.example.com go.mod
              warren export --out bundle2 --since /mnt/usb/bundle --sign /etc/warren/bundles.signer services/*/go.mod
              warren export --out bundle --sumdb "sum.example.com+1234abcd+AQ… https://warren.example.com/sumdb/sum.example.com" go.work
              warren export --out /mnt/usb/bundle --with-vulndb=/var/cache/warren go.mod
              warren export --out bundle.tar.zst --with-vulndb=https://warren.example.com/vuln go.mod
            """ + ReportOutput.Help)
    {
        foreach (var option in new Option[] { _out, _proxy, _sumdb, _since, _sign, _jobs, _withVulnDb, _recordIn, _json, _color })
        {
            Add(option);
        }

        Add(_inputs);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (parse.GetValue(_jobs) < 1)
        {
            return await UsageAsync("--jobs must be at least 1").ConfigureAwait(false);
        }

        var proxy = parse.GetValue(_proxy);
        var sumdb = parse.GetValue(_sumdb);
        if (string.IsNullOrEmpty(proxy) || sumdb is null)
        {
            var env = await GoEnvironmentSnapshot.LoadAsync(GoEnvironmentSnapshot.ProcessEnvironment(), null, cancellationToken).ConfigureAwait(false);
            proxy = string.IsNullOrEmpty(proxy) ? ProxyChain.FirstProxyUrl(env["GOPROXY"]) : proxy;
            sumdb ??= env["GOSUMDB"] is { Length: > 0 } s ? s : "sum.golang.org";
        }

        if (proxy is null || !Uri.TryCreate(proxy, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return await UsageAsync($"--proxy: {proxy ?? "GOPROXY names no proxy URL"}: want an http(s) URL").ConfigureAwait(false);
        }

        var config = SumDbConfig.TryParse(sumdb, out var error);
        if (error is not null)
        {
            return await UsageAsync("--sumdb: " + error).ConfigureAwait(false);
        }

        if (config is not null && config.EffectiveKey is null)
        {
            return await UsageAsync($"--sumdb: {config.Name} needs its verifier key (NAME+HASH+KEY): the bundle's checksum data is proven with it").ConfigureAwait(false);
        }

        BundleCursor? since = null;
        NoteSigner? signer = null;
        try
        {
            since = parse.GetValue(_since) is { } s2 ? BundleCursor.Parse(s2) : null;
            if (parse.GetValue(_sign) is { } file)
            {
                if (!Warren.Server.SumDb.HostedSumDbKey.TryLoad(file, out signer, out var problem))
                {
                    return await UsageAsync($"--sign: {problem}").ConfigureAwait(false);
                }
            }
        }
        catch (FormatException e)
        {
            return await UsageAsync(e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return await UsageAsync("--sign: " + e.Message).ConfigureAwait(false);
        }

        // The database is read first: without it there is no point fetching modules.
        (Warren.Protocol.VulnDb.VulnDbSnapshot Snapshot, string Source)? vulnDb = null;
        if (parse.GetResult(_withVulnDb) is not null)
        {
            var (db, problem) = await ExportVulnDb.LoadAsync(parse.GetValue(_withVulnDb), cancellationToken).ConfigureAwait(false);
            if (db is null)
            {
                await Console.Error.WriteLineAsync("warren export: --with-vulndb: " + problem).ConfigureAwait(false);
                return ExitCodes.BadConfiguration;
            }

            vulnDb = db;
        }

        var exporter = new BundleExporter(new ExportOptions(parse.GetValue(_inputs)!, proxy, config, parse.GetValue(_out)!, since, signer, parse.GetValue(_jobs), VulnDb: vulnDb,
            Journal: parse.GetValue(_recordIn) is { Length: > 0 } recordIn ? Warren.Storage.BundleJournal.PathUnder(recordIn) : null));
        var style = ReportOutput.Style(parse, _color);
        var json = parse.GetValue(_json);
        ExportResult? result = null;
        if (!json && style.Terminal)
        {
            result = await ReportOutput.WithProgressAsync(style, async ctx =>
            {
                var resolve = ctx.AddTask("go.mod files read");
                resolve.IsIndeterminate = true;
                var fetch = ctx.AddTask("module versions", autoStart: false);
                var sums = ctx.AddTask("lookups proven", autoStart: false);
                exporter.OnResolveProgress = n => resolve.Description = $"go.mod files read: {n}";
                exporter.OnFetchProgress = (done, total) => Step(resolve, fetch, done, total);
                exporter.OnChecksumProgress = (done, total) => Step(fetch, sums, done, total);
                var r = await exporter.RunAsync(cancellationToken).ConfigureAwait(false);
                foreach (var task in new[] { resolve, fetch, sums })
                {
                    task.StopTask();
                }

                return r;
            }).ConfigureAwait(false);
        }
        else if (!json)
        {
            exporter.OnFetchProgress = (done, total) => Plain("module versions", done, total);
            exporter.OnChecksumProgress = (done, total) => Plain("lookups proven", done, total);
        }

        if (result is null)
        {
            result = await exporter.RunAsync(cancellationToken).ConfigureAwait(false);
        }

        return await ReportOutput.WriteAsync(result.Report, json, style).ConfigureAwait(false);
    }

    /// <summary>Ends the previous stage's bar and moves the next one.</summary>
    internal static void Step(ProgressTask previous, ProgressTask next, int done, int total)
    {
        if (!next.IsStarted)
        {
            previous.IsIndeterminate = false;
            previous.Value = previous.MaxValue;
            previous.StopTask();
            next.StartTask();
        }

        next.MaxValue = Math.Max(1, total);
        next.Value = done;
    }

    /// <summary>Progress off a terminal: a line on standard error every tenth of the way.</summary>
    internal static void Plain(string what, int done, int total)
    {
        if (total > 0 && (done == total || done % Math.Max(1, total / 10) == 0))
        {
            Console.Error.WriteLine($"{what}: {done}/{total}");
        }
    }

    private static async Task<int> UsageAsync(string message)
    {
        await Console.Error.WriteLineAsync("warren export: " + message).ConfigureAwait(false);
        return ExitCodes.Usage;
    }
}

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Warren.Core.SumDb;
using Warren.Server;
using Warren.Server.Storage;
using Warren.Storage;
using Warren.Tools.Bundle;

namespace Warren.Cli.Commands;

/// <summary>`warren import BUNDLE --root DIR [--trust VERIFIER]`: check a bundle end to end, then add it to a store.</summary>
public sealed class ImportCommand : Command
{
    private readonly Argument<string> _bundle = new("BUNDLE") { Description = "the bundle directory, .tar or .tar.zst (written by warren export), or a vulndb.zip (the Go vulnerability database)" };
    private readonly Option<string> _root = new("--root") { Description = "the store directory to fill (not while a warren serve uses it)", Required = true };
    private readonly Option<string?> _trust = new("--trust") { Description = "require the manifest to be signed by this note verifier key (the key, or a file holding it)" };
    private readonly Option<string?> _sumdbKey = new("--sumdb-key") { Description = "the checksum database's verifier key the bundle must verify with (the key, or a file holding it; default: the manifest's)" };
    private readonly Option<int> _jobs = new("--jobs") { Description = "versions checked and stored at once", DefaultValueFactory = _ => 4 };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<string> _color = ReportOutput.ColorOption();

    public ImportCommand()
        : base("import", """
            Check a bundle written by warren export, then add it to a store, for warren serve --offline.

            Checked before anything is stored: the manifest's signature (with --trust), every file against the
            manifest's SHA-256 (none missing, none extra), the checksum database's signed tree head against its key,
            every lookup against the tiles and that head, and every .zip (module zip rules, h1) and .mod (h1)
            against its lookup's record. A bundle with any problem is refused, naming the file, and nothing of it is
            stored. Each file is then published put-if-absent (so an import is idempotent and an interrupted one is
            finished by running it again) with the checksum data kept under sumdb/NAME/.

            A bundle written with warren export --with-vulndb carries the Go vulnerability database as vulndb.zip: it is
            checked with the rest (its SHA-256, then read whole and compared with the manifest) and installed as the
            store's copy under ROOT/.warren/vulndb, as warren import vulndb.zip does, unless the stored copy is newer.
            warren serve --offline serves it under /vuln/ (GOVULNDB=URL/vuln govulncheck) without contacting --vulndb;
            with --vulndb off there is no /vuln/.

            Without --sumdb-key the key in the manifest is used: pin it (or sign bundles and pass --trust) so that
            whoever carries the bundle cannot swap the checksum database as well as the modules.

            Exit code 0 when the bundle was imported, 2 when it was refused, 64 on a usage error.

            Examples:
              warren import /mnt/usb/bundle --root /srv/warren --trust /etc/warren/bundles.verifier
              warren serve --offline --root /srv/warren --sumdb "$(cat sum.example.com.verifier)"
              warren import /mnt/usb/vulndb.zip --root /srv/warren
            """ + ReportOutput.Help)
    {
        Add(_bundle);
        foreach (var option in new Option[] { _root, _trust, _sumdbKey, _jobs, _json, _color })
        {
            Add(option);
        }

        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        NoteVerifier? trust = null;
        NoteVerifier? sumdbKey = null;
        foreach (var (option, set) in new (Option<string?>, Action<NoteVerifier>)[] { (_trust, v => trust = v), (_sumdbKey, v => sumdbKey = v) })
        {
            if (parse.GetValue(option) is not { } value)
            {
                continue;
            }

            var key = File.Exists(value) ? (await File.ReadAllTextAsync(value, cancellationToken).ConfigureAwait(false)).Trim() : value;
            if (!NoteVerifier.TryParse(key, out var verifier, out var error))
            {
                await Console.Error.WriteLineAsync($"warren import: {option.Name}: not a note verifier key: {error}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            set(verifier);
        }

        var bundle = parse.GetValue(_bundle)!;
        if (bundle.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            return await ImportVulnDbAsync(bundle, parse.GetValue(_root)!, parse.GetValue(_json), cancellationToken).ConfigureAwait(false);
        }

        if (!Directory.Exists(bundle) && !(BundleArchive.IsArchive(bundle) && File.Exists(bundle)))
        {
            await Console.Error.WriteLineAsync($"warren import: {bundle}: neither a bundle directory nor a .tar or .tar.zst").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (await BuildStoreHostAsync(parse.GetValue(_root)).ConfigureAwait(false) is not { } app)
        {
            return ExitCodes.Usage;
        }

        await using (app.ConfigureAwait(false))
        {
            var staging = app.Services.GetRequiredService<StagingArea>();
            var importer = new BundleImporter(new ImportOptions(bundle, app.Services.GetRequiredService<IArtifactStore>(), app.Services.GetRequiredService<IModuleIndex>(),
                staging.NewFile, trust, sumdbKey, Math.Max(1, parse.GetValue(_jobs)), VulnDbRoot: parse.GetValue(_root),
                Journal: BundleJournal.PathUnder(parse.GetValue(_root)!)));
            var style = ReportOutput.Style(parse, _color);
            var json = parse.GetValue(_json);
            ImportResult result;
            if (!json && style.Terminal)
            {
                result = await ReportOutput.WithProgressAsync(style, async ctx =>
                {
                    var check = ctx.AddTask("checking");
                    var store = ctx.AddTask("storing", autoStart: false);
                    importer.OnProgress = (what, done, total) => ExportCommand.Step(check, what == "checking" ? check : store, done, total);
                    var r = await importer.RunAsync(cancellationToken).ConfigureAwait(false);
                    check.StopTask();
                    store.StopTask();
                    return r;
                }).ConfigureAwait(false);
            }
            else
            {
                if (!json)
                {
                    importer.OnProgress = ExportCommand.Plain;
                }

                result = await importer.RunAsync(cancellationToken).ConfigureAwait(false);
            }

            return await ReportOutput.WriteAsync(result.Report, json, style).ConfigureAwait(false);
        }
    }

    /// <summary>`warren import vulndb.zip`: the Go vulnerability database (the layout of vuln.go.dev's vulndb.zip: index/db.json
    /// and ID/ID.json at the root) becomes the store's copy, which warren serve (also --offline) serves under /vuln/.</summary>
    private static async Task<int> ImportVulnDbAsync(string zip, string root, bool json, CancellationToken cancellationToken)
    {
        if (!File.Exists(zip))
        {
            await Console.Error.WriteLineAsync($"warren import: {zip}: no such file").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        Warren.Protocol.VulnDb.VulnDbSnapshot snapshot;
        try
        {
            await using var file = File.OpenRead(zip);
            snapshot = Warren.Protocol.VulnDb.VulnDbArchive.Read(file, Warren.Protocol.VulnDb.VulnDbLimits.Default);
        }
        catch (Exception e) when (e is Warren.Core.Vulns.OsvFormatException or InvalidDataException or IOException)
        {
            await Console.Error.WriteLineAsync($"warren import: {zip}: not a usable vulnerability database: {e.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
            return ExitCodes.BadConfiguration;
        }

        if (await BuildStoreHostAsync(root).ConfigureAwait(false) is not { } app)
        {
            return ExitCodes.Usage;
        }

        await using (app.ConfigureAwait(false))
        {
            try
            {
                // Held while the copy is replaced: no warren serve uses the store meanwhile.
                _ = app.Services.GetRequiredService<StoreLock>();
                Warren.Protocol.VulnDb.VulnDbStoredCopy.Save(root, snapshot,
                    new Warren.Protocol.VulnDb.VulnDbState(Warren.Protocol.VulnDb.VulnDbStoredCopy.ImportedSource, null, null, TimeProvider.System.GetUtcNow()));
                BundleJournal.Append(BundleJournal.PathUnder(root), new BundleJournalEntry("import-vulndb", zip, TimeProvider.System.GetUtcNow(), true,
                    snapshot.Entries.Count, 0, 0, new FileInfo(zip).Length, "modified " + Warren.Protocol.VulnDb.VulnDbSnapshot.FormatTime(snapshot.Modified)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"warren import: cannot store the vulnerability database under {root}: {e.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
                return ExitCodes.CannotWrite;
            }
        }

        var modified = Warren.Protocol.VulnDb.VulnDbSnapshot.FormatTime(snapshot.Modified);
        if (json)
        {
            await Console.Out.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(new { vulndb = zip, entries = snapshot.Entries.Count, modified, stored = Warren.Protocol.VulnDb.VulnDbStoredCopy.ZipPath(root) })).ConfigureAwait(false);
        }
        else
        {
            await Console.Out.WriteLineAsync($"imported the vulnerability database: {snapshot.Entries.Count} entries, modified {modified}, into {Warren.Protocol.VulnDb.VulnDbStoredCopy.ZipPath(root)}").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    /// <summary>A host over the store at root that contacts nothing (no upstream, checksum or vulnerability database),
    /// for its store, index and staging area; null (after one line per problem on stderr) when the options are invalid.</summary>
    private static async Task<Microsoft.AspNetCore.Builder.WebApplication?> BuildStoreHostAsync(string? root)
    {
        try
        {
            var app = WarrenHost.Build(o =>
            {
                o.Listen = "127.0.0.1:0";
                o.Root = root;
                o.Upstream = "off";
                o.SumDb = "off";
                o.VulnDb = "off";
            });
            _ = app.Services.GetRequiredService<IOptions<Server.Configuration.WarrenOptions>>().Value;
            return app;
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("warren import: invalid configuration: " + failure).ConfigureAwait(false);
            }

            return null;
        }
    }
}

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Warren.Server.Configuration;
using Warren.Server.Storage;
using Warren.Storage;
using Warren.Storage.FileSystem;
using Warren.Storage.Postgres;
using Warren.Storage.S3;
using Warren.Storage.Sqlite;
using Warren.Tools.StoreCopy;

namespace Warren.Cli.Commands;

/// <summary>`warren store`: tools for a store.</summary>
public sealed class StoreCommand : Command
{
    public StoreCommand()
        : base("store", "Store tools.")
    {
        Add(new StoreCopyCommand());
    }
}

/// <summary>`warren store copy --from DIR|s3://… --to s3://…|DIR [--index …]`: copy a store, verifying every module.</summary>
public sealed class StoreCopyCommand : Command
{
    private readonly Option<string> _from = new("--from") { Description = "the store to copy: a store directory (--root of a warren serve) or s3://BUCKET/PREFIX", Required = true };
    private readonly Option<string> _to = new("--to") { Description = "where to copy it: s3://BUCKET/PREFIX or a directory", Required = true };
    private readonly Option<string?> _index = new("--index") { Description = "the target's module index: postgres://USER@HOST:PORT/DB or a connection string (WARREN_INDEX keeps a password off the command line); default: SQLite in the target directory, none for S3" };
    private readonly Option<string?> _s3Endpoint = new("--s3-endpoint") { Description = "S3 endpoint URL for both sides (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS profile)" };
    private readonly Option<string?> _s3Region = new("--s3-region") { Description = "S3 region" };
    private readonly Option<bool> _s3PathStyle = new("--s3-path-style") { Description = "path-style S3 addressing" };
    private readonly Option<int> _jobs = new("--jobs") { Description = "module versions copied at once", DefaultValueFactory = _ => 4 };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<string> _color = ReportOutput.ColorOption();

    public StoreCopyCommand()
        : base("copy", """
            Copy a store into another: a single node's store directory into the cluster's bucket and database, say.

            Every module file is checked on the way: a zip's h1 is computed from its content and must equal its
            .ziphash (and the source index's record), a .mod must parse as the go.mod of its module, an .info must
            name its version; a version that fails is reported and not copied. Checksum database tiles are copied as
            they are. Objects the target already holds are left alone, so an interrupted copy resumes where it
            stopped, and nothing is ever partially visible in the target. The target index (--index) gets a record of
            every module file with its hash.

            Exit code 0 when everything was copied, 2 when something failed, 64 on a usage error.

            Examples:
              warren store copy --from /var/cache/warren --to s3://modules/warren --s3-endpoint http://minio:9000 --s3-path-style --index postgres://warren@db/warren
              WARREN_INDEX='Host=db;Username=warren;Password=…;Database=warren' warren store copy --from /srv/warren --to s3://modules/warren
            """ + ReportOutput.Help)
    {
        foreach (var option in new Option[] { _from, _to, _index, _s3Endpoint, _s3Region, _s3PathStyle, _jobs, _json, _color })
        {
            Add(option);
        }

        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var from = parse.GetValue(_from)!;
        var to = parse.GetValue(_to)!;
        var jobs = parse.GetValue(_jobs);
        var indexSetting = parse.GetValue(_index) ?? Environment.GetEnvironmentVariable("WARREN_INDEX");
        var options = new WarrenOptionsBuilder
        {
            S3Endpoint = parse.GetValue(_s3Endpoint),
            S3Region = parse.GetValue(_s3Region),
            S3PathStyle = parse.GetValue(_s3PathStyle),
            Index = indexSetting,
        };
        if (jobs < 1)
        {
            return await UsageAsync("--jobs must be at least 1").ConfigureAwait(false);
        }

        if (!IsS3(from) && !Directory.Exists(from))
        {
            return await UsageAsync($"--from {from}: no such directory").ConfigureAwait(false);
        }

        var disposables = new List<IDisposable>();
        try
        {
            var (source, sourceError) = OpenStore(from, options, disposables);
            var (target, targetError) = OpenStore(to, options, disposables);
            if ((sourceError ?? targetError) is { } storeError)
            {
                return await UsageAsync(storeError).ConfigureAwait(false);
            }

            IModuleIndex? sourceIndex = !IsS3(from) && File.Exists(Path.Combine(from, StoreLayout.StateDirectory, "index.db"))
                ? Track(new SqliteModuleIndex(new SqliteIndexOptions { Path = Path.GetFullPath(Path.Combine(from, StoreLayout.StateDirectory, "index.db")) }), disposables)
                : null;
            IModuleIndex? targetIndex;
            if (StorageSelection.Postgres(options.Build(), out var indexError) is { } postgres)
            {
                if (indexError is not null)
                {
                    return await UsageAsync(indexError).ConfigureAwait(false);
                }

                var provider = Track(new ServiceCollection().AddPostgresIndex(postgres).BuildServiceProvider(), disposables);
                var index = provider.GetRequiredService<PostgresModuleIndex>();
                await index.MigrateAsync(cancellationToken).ConfigureAwait(false);
                targetIndex = index;
            }
            else
            {
                targetIndex = IsS3(to)
                    ? null
                    : Track(new SqliteModuleIndex(new SqliteIndexOptions { Path = Path.GetFullPath(Path.Combine(to, StoreLayout.StateDirectory, "index.db")) }), disposables);
            }

            var staging = Directory.CreateTempSubdirectory("warren-store-copy-");
            try
            {
                var copier = new StoreCopier(source!, target!, targetIndex, sourceIndex, staging.FullName, jobs);
                var style = ReportOutput.Style(parse, _color);
                var json = parse.GetValue(_json);
                StoreCopyResult result;
                if (!json && style.Terminal)
                {
                    result = await ReportOutput.WithProgressAsync(style, async ctx =>
                    {
                        var task = ctx.AddTask("objects copied");
                        copier.OnProgress = (done, total) =>
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = done;
                        };
                        return await copier.CopyAsync(cancellationToken).ConfigureAwait(false);
                    }).ConfigureAwait(false);
                }
                else
                {
                    result = await copier.CopyAsync(cancellationToken).ConfigureAwait(false);
                }

                return await ReportOutput.WriteAsync(result.Report, json, style).ConfigureAwait(false);
            }
            finally
            {
                staging.Delete(recursive: true);
            }
        }
        finally
        {
            foreach (var disposable in Enumerable.Reverse(disposables))
            {
                disposable.Dispose();
            }
        }
    }

    private static bool IsS3(string location) => location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    private static T Track<T>(T disposable, List<IDisposable> disposables)
        where T : IDisposable
    {
        disposables.Add(disposable);
        return disposable;
    }

    /// <summary>A store at a directory or an s3:// location, or the one-line reason it cannot be used.</summary>
    private static (IArtifactStore? Store, string? Error) OpenStore(string location, WarrenOptionsBuilder options, List<IDisposable> disposables)
    {
        if (!IsS3(location))
        {
            return (Track(new FileSystemArtifactStore(new FileSystemStoreOptions { Root = Path.GetFullPath(location) }), disposables), null);
        }

        options.Store = location;
        var s3 = StorageSelection.S3(options.Build(), out var error);
        return error is not null || s3 is null ? (null, error ?? "not an s3:// location") : (Track(new S3ArtifactStore(s3), disposables), null);
    }

    private static async Task<int> UsageAsync(string message)
    {
        await Console.Error.WriteLineAsync("warren store copy: " + message).ConfigureAwait(false);
        return ExitCodes.Usage;
    }
}

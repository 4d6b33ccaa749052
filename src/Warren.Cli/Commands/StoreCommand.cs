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
using Warren.Core.Limits;
using Warren.Core.Modules;
using Warren.Storage.Retention;
using Warren.Tools.Retention;
using Warren.Tools.StoreCopy;

namespace Warren.Cli.Commands;

/// <summary>`warren store`: tools for a store.</summary>
public sealed class StoreCommand : Command
{
    public StoreCommand()
        : base("store", "Store tools.")
    {
        Add(new StoreCopyCommand());
        Add(new StoreGcCommand());
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

    internal static bool IsS3(string location) => location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    internal static T Track<T>(T disposable, List<IDisposable> disposables)
        where T : IDisposable
    {
        disposables.Add(disposable);
        return disposable;
    }

    /// <summary>A store at a directory or an s3:// location, or the one-line reason it cannot be used.</summary>
    internal static (IArtifactStore? Store, string? Error) OpenStore(string location, WarrenOptionsBuilder options, List<IDisposable> disposables)
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

/// <summary>`warren store gc --root DIR [--max-size SIZE] [--older-than DURATION] [--policy lru|lfu|age] [--keep GLOBS]
/// [--dry-run]`: evict module versions to fit a bounded disk.</summary>
public sealed class StoreGcCommand : Command
{
    private readonly Option<string?> _root = new("--root") { Description = "the store directory (--root of a warren serve)" };
    private readonly Option<string?> _store = new("--store") { Description = "an S3 store instead: s3://BUCKET/PREFIX (with --index for the usage it records)" };
    private readonly Option<string?> _index = new("--index") { Description = "the module index: postgres://USER@HOST:PORT/DB or a connection string (WARREN_INDEX keeps a password off the command line); default: SQLite under --root" };
    private readonly Option<string?> _s3Endpoint = new("--s3-endpoint") { Description = "S3 endpoint URL (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS profile)" };
    private readonly Option<string?> _s3Region = new("--s3-region") { Description = "S3 region" };
    private readonly Option<bool> _s3PathStyle = new("--s3-path-style") { Description = "path-style S3 addressing" };
    private readonly Option<string?> _maxSize = new("--max-size") { Description = "evict, in --policy order, until the module files take at most this: bytes, or with KB, MB, GB or TB (powers of 1024)" };
    private readonly Option<TimeSpan?> _olderThan = new("--older-than") { Description = "evict every version not used (downloaded, else stored) for this long, e.g. 30.00:00:00" };
    private readonly Option<string> _policy = new("--policy") { Description = "which versions go first for --max-size: lru (least recently used), lfu (least downloaded) or age (oldest stored)", DefaultValueFactory = _ => "lru" };
    private readonly Option<string?> _keep = new("--keep") { Description = "GOPRIVATE-style globs of module paths never evicted (default: --private)" };
    private readonly Option<string?> _private = new("--private") { Description = "GOPRIVATE-style patterns, kept because their origin may be gone (default: $GOPRIVATE)" };
    private readonly Option<bool> _dryRun = new("--dry-run") { Description = "report what would be evicted; delete nothing" };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<string> _color = ReportOutput.ColorOption();

    public StoreGcCommand()
        : base("gc", """
            Evict module versions from a store to fit a bounded disk: every version unused for --older-than, then,
            in --policy order, as many as it takes to bring the store's module files within --max-size.

            A version goes whole (its .zip first, then .ziphash, .mod and .info), so an interruption, even kill -9,
            leaves only states the server handles: what is missing is fetched again on the next request, a zip must
            have the h1 recorded when it was first stored, and the checksum database checks it as before. Versions matching
            --keep (default: the --private patterns, whose origin may be gone), checksum database tiles, the hosted
            checksum database and the index's records (hashes, the /index feed) are never deleted. Last access and
            download counts come from the index, where warren serve writes them.

            Exit code 0 when done, 64 on a usage error.

            Examples:
              warren store gc --root /var/cache/warren --max-size 50GB
              warren store gc --root /var/cache/warren --older-than 90.00:00:00 --keep 'example.com/*' --dry-run
            """ + ReportOutput.Help)
    {
        foreach (var option in new Option[] { _root, _store, _index, _s3Endpoint, _s3Region, _s3PathStyle, _maxSize, _olderThan, _policy, _keep, _private, _dryRun, _json, _color })
        {
            Add(option);
        }

        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var root = parse.GetValue(_root);
        var location = parse.GetValue(_store) ?? root;
        long? maxSize = null;
        if (parse.GetValue(_maxSize) is { } sizeText)
        {
            if (!ByteSize.TryParse(sizeText, out var bytes, out var sizeError))
            {
                return await UsageAsync("--max-size: " + sizeError).ConfigureAwait(false);
            }

            maxSize = bytes;
        }

        var olderThan = parse.GetValue(_olderThan);
        var keep = parse.GetValue(_keep) ?? parse.GetValue(_private) ?? Environment.GetEnvironmentVariable("GOPRIVATE") ?? "";
        if (RetentionProblem(location, root, maxSize, olderThan, parse.GetValue(_policy), keep, out var policy) is { } problem)
        {
            return await UsageAsync(problem).ConfigureAwait(false);
        }

        var options = new WarrenOptionsBuilder
        {
            S3Endpoint = parse.GetValue(_s3Endpoint),
            S3Region = parse.GetValue(_s3Region),
            S3PathStyle = parse.GetValue(_s3PathStyle),
            Index = parse.GetValue(_index) ?? Environment.GetEnvironmentVariable("WARREN_INDEX"),
        };
        var disposables = new List<IDisposable>();
        try
        {
            var (store, storeError) = StoreCopyCommand.OpenStore(location!, options, disposables);
            if (storeError is not null)
            {
                return await UsageAsync(storeError).ConfigureAwait(false);
            }

            IModuleIndex? index = null;
            if (StorageSelection.Postgres(options.Build(), out var indexError) is { } postgres)
            {
                if (indexError is not null)
                {
                    return await UsageAsync(indexError).ConfigureAwait(false);
                }

                var provider = StoreCopyCommand.Track(new ServiceCollection().AddPostgresIndex(postgres).BuildServiceProvider(), disposables);
                var postgresIndex = provider.GetRequiredService<PostgresModuleIndex>();
                await postgresIndex.MigrateAsync(cancellationToken).ConfigureAwait(false);
                index = postgresIndex;
            }
            else if (root is not null && File.Exists(Path.Combine(root, StoreLayout.StateDirectory, "index.db")))
            {
                index = StoreCopyCommand.Track(new SqliteModuleIndex(new SqliteIndexOptions { Path = Path.GetFullPath(Path.Combine(root, StoreLayout.StateDirectory, "index.db")) }), disposables);
            }

            var collector = new StoreCollector(store!, index, TimeProvider.System);
            var request = new CollectionRequest(maxSize, olderThan, policy, GlobList.Parse(keep), parse.GetValue(_dryRun));
            var result = await collector.CollectAsync(request, cancellationToken).ConfigureAwait(false);
            return await ReportOutput.WriteAsync(StoreGcReport.Build(result, store!.Location), parse.GetValue(_json), ReportOutput.Style(parse, _color)).ConfigureAwait(false);
        }
        finally
        {
            foreach (var disposable in Enumerable.Reverse(disposables))
            {
                disposable.Dispose();
            }
        }
    }

    /// <summary>The first usage problem of the arguments, or null (and the parsed policy).</summary>
    private static string? RetentionProblem(string? location, string? root, long? maxSize, TimeSpan? olderThan, string? policyText, string keep, out RetentionPolicy policy)
    {
        policy = RetentionPolicy.Lru;
        if (location is null)
        {
            return "give the store: --root DIR or --store s3://BUCKET/PREFIX";
        }

        if (!StoreCopyCommand.IsS3(location) && !Directory.Exists(location))
        {
            return $"--root {root}: no such directory";
        }

        if (maxSize is null && olderThan is null)
        {
            return "say what to evict: --max-size SIZE, --older-than DURATION or both";
        }

        if (olderThan is { } age && age <= TimeSpan.Zero)
        {
            return $"--older-than must be positive, not {age}";
        }

        if (!StoreCollector.TryParsePolicy(policyText, out policy))
        {
            return $"--policy {policyText}: want lru, lfu or age";
        }

        return ModulePatterns.Validate(keep) is { } patternError ? $"--keep \"{keep}\": {patternError}" : null;
    }

    private static async Task<int> UsageAsync(string message)
    {
        await Console.Error.WriteLineAsync("warren store gc: " + message).ConfigureAwait(false);
        return ExitCodes.Usage;
    }
}

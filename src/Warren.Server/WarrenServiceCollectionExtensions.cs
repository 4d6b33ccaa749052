using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Warren.Core.Vulns;
using Warren.Fetch.Direct;
using Warren.Fetch.Direct.Discovery;
using Warren.Fetch.Direct.Git;
using Warren.Protocol;
using Warren.Server.Auth;
using Warren.Server.Egress;
using Warren.Server.Endpoints;
using Warren.Server.Impact;
using Warren.Server.Ingest;
using Warren.Server.Storage;
using Warren.Server.SumDb;
using Warren.Server.Upstream;
using Warren.Server.Vulns;
using Warren.Storage.FileSystem;
using Warren.Storage.Sqlite;
using Warren.Storage.S3;
using Warren.Storage.Postgres;

namespace Warren.Server;

public static class WarrenServiceCollectionExtensions
{
    /// <summary>Registers the proxy: the frozen options (validated at start-up), the filesystem store and index,
    /// upstream chain, sumdb proxy, metrics.</summary>
    public static IServiceCollection AddWarren(this IServiceCollection services, WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton<IOptionsFactory<WarrenOptions>>(sp => new FrozenOptionsFactory<WarrenOptions>(options, sp.GetServices<IValidateOptions<WarrenOptions>>()));
        services.AddOptions<WarrenOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<WarrenOptions>, WarrenOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<InstanceIdentity>();
        services.AddSingleton<WarrenMetrics>();
        services.AddSingleton<RecentErrors>();

        // Without a vulnerability database the proxy knows no advisories; the database mirror replaces this.
        services.TryAddSingleton<IAdvisoryCatalog>(EmptyAdvisoryCatalog.Instance);
        services.AddVulnDbMirror(options);
        services.AddSingleton(sp => new NegativeCache(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<WarrenOptions>>().Value.MemoryCacheEntries));
        services.AddSingleton<StoreLock>();
        services.AddSingleton<StagingArea>();
        AddStorage(services, options);
        services.AddSingleton<IndexRefill>();
        // The upstream chain and the checksum databases, parsed once (the validator has rejected what does not parse).
        services.AddSingleton(sp => ProtocolSettingsFrom(sp.GetRequiredService<IOptions<WarrenOptions>>().Value));
        services.AddSingleton(sp => EgressServices.CreatePolicy(sp.GetRequiredService<IOptions<WarrenOptions>>().Value,
            sp.GetRequiredService<ProtocolSettings>(), sp.GetRequiredService<WarrenMetrics>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Warren.Server.Egress")));
        services.AddSingleton<ResourceLimits>();

        // One redactor for every message, log line and error body: URL user information, tokens, known secrets.
        services.AddSingleton<SecretRedactor>();
        services.AddSingleton<UpstreamCredentials>();
        AddOutboundHttpClients(services);
        services.AddSingleton(sp => new HttpDownloader(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpDownloader.ClientName),
            sp.GetRequiredService<IOptions<WarrenOptions>>(), sp.GetRequiredService<InstanceIdentity>(), sp.GetRequiredService<SecretRedactor>(),
            sp.GetRequiredService<ResourceLimits>().Fetches));

        // Hardened git: every git child (mirrors, the .git probe, local reads) gets the private home under
        // <store>/.warren/home, the operator's GitConfig (or an empty one), and Warren's credential helper only;
        // all of them share the process-wide limit on git processes.
        services.AddSingleton(sp => BuildGitMirrorOptions(sp.GetRequiredService<IOptions<WarrenOptions>>().Value,
            sp.GetRequiredService<Warren.Fetch.Direct.Egress.EgressPolicy>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp =>
        {
            var git = new HardenedGit(sp.GetRequiredService<GitMirrorOptions>(), runner: null, sp.GetRequiredService<SecretRedactor>());
            git.Runner.ProcessGate = sp.GetRequiredService<ResourceLimits>().GitProcesses;
            git.Runner.TimeProvider = sp.GetRequiredService<TimeProvider>();
            Log.GitHardened(sp.GetRequiredService<ILoggerFactory>().CreateLogger<HardenedGit>(), git.Home, git.BaseEnvironment["GIT_CONFIG_GLOBAL"]);
            return git;
        });
        services.AddSingleton(sp => sp.GetRequiredService<HardenedGit>().Runner);
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WarrenOptions>>().Value;
            return new RepoDiscovery(sp.GetRequiredService<IHttpClientFactory>().CreateClient(DiscoveryClientName), new RepoDiscoveryOptions
            {
                GoInsecure = o.GoInsecure ?? "",
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                Git = sp.GetRequiredService<GitRunner>(),
                HardenedGit = sp.GetRequiredService<HardenedGit>(),
                CacheMaxEntries = o.MemoryCacheEntries,
                FetchGate = sp.GetRequiredService<ResourceLimits>().Fetches,
            });
        });
        services.AddSingleton(sp => new GitMirrorManager(sp.GetRequiredService<GitMirrorOptions>(), sp.GetRequiredService<HardenedGit>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<GitMirrorManager>()));
        services.AddSingleton(sp => new DirectFetcher(sp.GetRequiredService<RepoDiscovery>(), sp.GetRequiredService<GitMirrorManager>(),
            sp.GetRequiredService<GitRunner>(), sp.GetRequiredService<IOptions<WarrenOptions>>().Value.GitTimeout));
        services.AddSingleton<DirectSource>();
        services.AddSingleton<LiveStages>();
        services.AddSingleton<UpstreamChain>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WarrenOptions>>().Value;
            return new SmallArtifactCache(o.MemoryCacheBytes, maxEntries: o.MemoryCacheEntries);
        });
        services.AddSingleton(sp => new Endpoints.OpenFileCache(sp.GetRequiredService<IOptions<WarrenOptions>>().Value.OpenFiles));
        services.AddSingleton<LocalObjectCache>();
        // --sumdb-policy, parsed once (the validator has refused a setting that does not parse).
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WarrenOptions>>();
            return new ChecksumPolicy(ChecksumPolicy.Parse(o.Value.SumDbPolicy).Rules, o, sp.GetRequiredService<ProtocolSettings>());
        });
        services.AddSingleton<HostedSumDb>();
        services.AddSingleton<ChecksumVerifier>();
        services.AddSingleton<AnswerCache>();
        services.AddSingleton(sp => new ClusterFlights(sp.GetService<ILeaseProvider>(), sp.GetRequiredService<IOptions<WarrenOptions>>().Value.ClusterLeaseDuration, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ClusterFlights>>()));
        services.AddSingleton<UpstreamFetcher>();
        services.AddSingleton<ModuleIngestor>();
        services.AddSingleton<ModuleService>();
        services.AddDownloadModes(options);
        services.AddSingleton<HostedSumDbHandler>();
        services.AddSingleton<SumDbProxy>();
        services.AddOriginAuthorization();
        services.AddHostedService<StartupTasks>();
        services.AddWarrenAccessControl();
        services.AddSingleton<Mirror.FeedFollower>();
        if (options.Follow is not null)
        {
            services.AddHostedService(sp => sp.GetRequiredService<Mirror.FeedFollower>());
        }

        services.AddSingleton<StoreMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreMaintenance>());
        services.AddSingleton<NodeHeartbeats>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeHeartbeats>());
        services.AddSingleton<UsageTracker>();
        services.AddSingleton<StoreRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreRetention>());
        services.AddWarrenImpact(options);
        Policy.PolicyServices.AddWarrenPolicy(services);
        ConsoleData.ConsoleServices.AddWarrenConsoleData(services);
        return services;
    }

    /// <summary>The artifact store and the module index (<see cref="StorageSelection"/>): the embedded defaults are the
    /// file store under the root and the SQLite index in ROOT/.warren/index.db; a cluster shares an S3 bucket and a
    /// PostgreSQL database. The node's store lock is taken (by resolving it) before either is opened, and every
    /// operation of both is measured into /metrics.</summary>
    private static void AddStorage(IServiceCollection services, WarrenOptions options)
    {
        var root = Path.GetFullPath(options.Root ?? throw new InvalidOperationException("store root is not set"));
        if (StorageSelection.Problems(options) is { Count: > 0 } problems)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(WarrenOptions), problems);
        }

        // Each provider is registered by a method of its own, so that the assemblies of the providers not chosen
        // (the AWS SDK, Npgsql) are never loaded.
        var (index, indexProvider) = StorageSelection.Postgres(options, out _) is { } postgres
            ? RegisterPostgres(services, postgres)
            : RegisterSqlite(services, root);
        var (store, storeProvider) = StorageSelection.S3(options, out _) is { } s3
            ? RegisterS3(services, s3)
            : RegisterFileSystem(services, root, options.Fsync);

        services.AddSingleton<IArtifactStore>(sp =>
        {
            sp.GetRequiredService<StoreLock>();
            return new InstrumentedArtifactStore(store(sp), sp.GetRequiredService<WarrenMetrics>(), storeProvider);
        });
        services.AddSingleton<IModuleIndex>(sp =>
        {
            sp.GetRequiredService<StoreLock>();
            return new InstrumentedModuleIndex(index(sp), sp.GetRequiredService<WarrenMetrics>(), indexProvider);
        });
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Func<IServiceProvider, IModuleIndex> Resolve, string Name) RegisterPostgres(IServiceCollection services, PostgresIndexOptions postgres) =>
        Register<IModuleIndex, PostgresModuleIndex>(() => services.AddPostgresIndex(postgres), "postgres");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Func<IServiceProvider, IModuleIndex> Resolve, string Name) RegisterSqlite(IServiceCollection services, string root) =>
        Register<IModuleIndex, SqliteModuleIndex>(
            () => services.AddSqliteIndex(new SqliteIndexOptions { Path = Path.Combine(root, StoreLayout.StateDirectory, "index.db") }), "sqlite");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Func<IServiceProvider, IArtifactStore> Resolve, string Name) RegisterS3(IServiceCollection services, S3StoreOptions s3) =>
        Register<IArtifactStore, S3ArtifactStore>(() => services.AddS3Store(s3), "s3");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Func<IServiceProvider, IArtifactStore> Resolve, string Name) RegisterFileSystem(IServiceCollection services, string root, bool fsync) =>
        Register<IArtifactStore, FileSystemArtifactStore>(
            () => services.AddFileSystemStore(new FileSystemStoreOptions { Root = root, Fsync = fsync }), "filesystem");

    /// <summary>Registers a storage provider; returns how its service is resolved and the provider's name (for metrics).</summary>
    private static (Func<IServiceProvider, TService> Resolve, string Name) Register<TService, TProvider>(Action register, string name)
        where TProvider : class, TService
    {
        register();
        return (sp => sp.GetRequiredService<TProvider>(), name);
    }

    /// <summary>The name of the go-get discovery client in the <see cref="IHttpClientFactory"/>.</summary>
    public const string DiscoveryClientName = "warren-discovery";

    /// <summary>The protocol settings of the options: the upstream chain (default: the go command's GOPROXY default),
    /// the checksum database verified against (null when none or off) and the one proxied under /sumdb/.</summary>
    public static ProtocolSettings ProtocolSettingsFrom(WarrenOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return ProtocolSettings.Parse(o.Upstream ?? GoEnvironment.DefaultProxy, o.SumDb, GoEnvironment.DefaultSumDb);
    }

    /// <summary>The outbound clients, one named client each (upstream proxies, checksum databases, go-get discovery),
    /// all on the same primary handler configuration: the egress policy on every connection and redirect hop, the
    /// outbound proxy, the connect timeout and connection pooling of <see cref="HttpDownloader.CreateHandler"/>. Their
    /// own timeout is infinite: each caller bounds its requests. The factory's per-request logging is off (Warren logs
    /// its outcomes itself).</summary>
    private static void AddOutboundHttpClients(IServiceCollection services)
    {
        services.ConfigureHttpClientDefaults(b => b.RemoveAllLoggers());
        foreach (var name in new[] { HttpDownloader.ClientName, ChecksumVerifier.ClientName, DiscoveryClientName, Mirror.FeedFollower.ClientName, Vulns.VulnDbMirror.ClientName })
        {
            services.AddHttpClient(name, c => c.Timeout = Timeout.InfiniteTimeSpan)
                .ConfigurePrimaryHttpMessageHandler(sp => HttpDownloader.CreateHandler(sp.GetRequiredService<IOptions<WarrenOptions>>().Value,
                    sp.GetRequiredService<Warren.Fetch.Direct.Egress.EgressPolicy>()));
        }
    }

    /// <summary>Mirrors under &lt;store&gt;/.warren/git; git's private HOME is &lt;store&gt;/.warren/home.</summary>
    private static GitMirrorOptions BuildGitMirrorOptions(WarrenOptions o, Warren.Fetch.Direct.Egress.EgressPolicy egress, TimeProvider time)
    {
        var warren = Path.Combine(Path.GetFullPath(o.Root!), ".warren");
        return new GitMirrorOptions
        {
            MirrorRoot = Path.Combine(warren, "git"),
            PrivateHome = Path.Combine(warren, "home"),
            FreshnessWindow = o.GitFreshness,
            ShallowFirstAfter = o.GitShallowAfter >= o.GitTimeout ? null : o.GitShallowAfter,
            MaxConcurrentOperationsPerHost = o.GitHostConcurrency,
            OperationTimeout = o.GitTimeout,
            Credentials = o.GitCredentials.ToDictionary(kv => kv.Key, kv => ParseCredential(kv.Value), StringComparer.OrdinalIgnoreCase),
            NetrcPath = o.Netrc,
            AllowCredentialsOverHttp = o.GitCredentialsOverHttp,
            GitConfigGlobal = o.GitConfig,
            HttpProxy = o.OutboundProxy ?? o.EnvironmentProxies.HttpProxy,
            HttpsProxy = o.OutboundProxy ?? o.EnvironmentProxies.HttpsProxy,
            NoProxy = o.OutboundProxyBypass ?? o.EnvironmentProxies.NoProxy,
            EgressPolicy = egress,
            TimeProvider = time,
            QuotaBytes = o.MirrorQuotaSize.Bytes,
            MaxIdle = o.MirrorMaxIdle,
            MaxRepositoryBytes = o.MaxRepoSizeSize.Bytes,
        };
    }

    /// <summary>"user:password", or a bare token.</summary>
    private static GitCredential ParseCredential(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? new GitCredential(value[..colon], value[(colon + 1)..]) : GitCredential.FromToken(value);
    }
}

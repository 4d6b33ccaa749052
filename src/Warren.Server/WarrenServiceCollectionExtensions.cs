using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Warren.Fetch.Direct;
using Warren.Fetch.Direct.Discovery;
using Warren.Fetch.Direct.Git;
using Warren.Server.Configuration;
using Warren.Server.Ingest;
using Warren.Server.Observability;
using Warren.Server.Storage;
using Warren.Server.SumDb;
using Warren.Server.Upstream;

namespace Warren.Server;

public static class WarrenServiceCollectionExtensions
{
    /// <summary>Registers the proxy: options (validated at start-up), the filesystem store and index, upstream chain, sumdb proxy, metrics.</summary>
    public static IServiceCollection AddWarren(this IServiceCollection services, Action<WarrenOptions> configure)
    {
        services.AddOptions<WarrenOptions>().Configure(configure).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WarrenOptions>, WarrenOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<InstanceIdentity>();
        services.AddSingleton<WarrenMetrics>();
        services.AddSingleton(sp => new NegativeCache(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<WarrenOptions>>().Value.MemoryCacheEntries));
        services.AddSingleton<StoreLock>();
        services.AddSingleton<FileSystemModuleStore>();
        services.AddSingleton<IModuleStore>(sp => sp.GetRequiredService<FileSystemModuleStore>());
        services.AddSingleton<MetadataIndex>();
        services.AddSingleton<ResourceLimits>();
        services.AddSingleton(sp => new HttpDownloader(
            HttpDownloader.CreateClient(sp.GetRequiredService<IOptions<WarrenOptions>>().Value),
            sp.GetRequiredService<IOptions<WarrenOptions>>(), sp.GetRequiredService<InstanceIdentity>(), sp.GetRequiredService<ResourceLimits>().Fetches));
        services.AddSingleton(sp => new GitRunner { ProcessGate = sp.GetRequiredService<ResourceLimits>().GitProcesses });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WarrenOptions>>().Value;
            return new RepoDiscovery(HttpDownloader.CreateClient(o), new RepoDiscoveryOptions
            {
                GoInsecure = o.GoInsecure ?? "",
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                Git = sp.GetRequiredService<GitRunner>(),
                CacheMaxEntries = o.MemoryCacheEntries,
                FetchGate = sp.GetRequiredService<ResourceLimits>().Fetches,
            });
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WarrenOptions>>().Value;
            return new GitMirrorManager(new GitMirrorOptions
            {
                MirrorRoot = Path.Combine(Path.GetFullPath(o.Root!), ".warren", "git"),
                FreshnessWindow = o.GitFreshness,
                MaxConcurrentOperationsPerHost = o.GitHostConcurrency,
                OperationTimeout = o.GitTimeout,
                Credentials = o.GitCredentials.ToDictionary(kv => kv.Key, kv => ParseCredential(kv.Value), StringComparer.OrdinalIgnoreCase),
                NetrcPath = o.Netrc,
                AllowCredentialsOverHttp = o.GitCredentialsOverHttp,
                GitConfigGlobal = o.GitConfig,
                HttpProxy = o.OutboundProxy ?? Environment.GetEnvironmentVariable("HTTP_PROXY") ?? Environment.GetEnvironmentVariable("http_proxy"),
                HttpsProxy = o.OutboundProxy ?? Environment.GetEnvironmentVariable("HTTPS_PROXY") ?? Environment.GetEnvironmentVariable("https_proxy"),
                NoProxy = o.OutboundProxyBypass ?? Environment.GetEnvironmentVariable("NO_PROXY") ?? Environment.GetEnvironmentVariable("no_proxy"),
                TimeProvider = sp.GetRequiredService<TimeProvider>(),
                QuotaBytes = Size(o.MirrorQuota),
                MaxIdle = o.MirrorMaxIdle,
                MaxRepositoryBytes = Size(o.MaxRepoSize),
            }, sp.GetRequiredService<GitRunner>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<GitMirrorManager>());
        });
        services.AddSingleton(sp => new DirectFetcher(sp.GetRequiredService<RepoDiscovery>(), sp.GetRequiredService<GitMirrorManager>(),
            sp.GetRequiredService<GitRunner>(), sp.GetRequiredService<IOptions<WarrenOptions>>().Value.GitTimeout));
        services.AddSingleton<DirectSource>();
        services.AddSingleton<UpstreamChain>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WarrenOptions>>().Value;
            return new SmallArtifactCache(o.MemoryCacheBytes, maxEntries: o.MemoryCacheEntries);
        });
        services.AddSingleton(sp => new Endpoints.OpenFileCache(sp.GetRequiredService<IOptions<WarrenOptions>>().Value.OpenFiles));
        services.AddSingleton<ChecksumPolicy>();
        services.AddSingleton<HostedSumDb>();
        services.AddSingleton<ChecksumVerifier>();
        services.AddSingleton<ModuleService>();
        services.AddSingleton<HostedSumDbHandler>();
        services.AddSingleton<SumDbProxy>();
        services.AddHostedService<StartupTasks>();
        services.AddSingleton<StoreMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreMaintenance>());
        return services;
    }

    /// <summary>A validated size option ("20G"), or null.</summary>
    private static long? Size(string? value) => value is not null && Warren.Core.Limits.ByteSize.TryParse(value, out var bytes, out _) ? bytes : null;

    /// <summary>"user:password", or a bare token.</summary>
    private static GitCredential ParseCredential(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? new GitCredential(value[..colon], value[(colon + 1)..]) : GitCredential.FromToken(value);
    }
}

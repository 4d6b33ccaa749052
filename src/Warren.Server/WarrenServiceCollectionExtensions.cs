using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
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
        services.AddSingleton(sp => new NegativeCache(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<FileSystemModuleStore>();
        services.AddSingleton<IModuleStore>(sp => sp.GetRequiredService<FileSystemModuleStore>());
        services.AddSingleton<MetadataIndex>();
        services.AddSingleton(sp => new HttpDownloader(
            HttpDownloader.CreateClient(sp.GetRequiredService<IOptions<WarrenOptions>>().Value),
            sp.GetRequiredService<IOptions<WarrenOptions>>(), sp.GetRequiredService<InstanceIdentity>()));
        services.AddSingleton<UpstreamChain>();
        services.AddSingleton(new SmallArtifactCache());
        services.AddSingleton<ModuleService>();
        services.AddSingleton<SumDbProxy>();
        services.AddHostedService<StartupTasks>();
        return services;
    }
}

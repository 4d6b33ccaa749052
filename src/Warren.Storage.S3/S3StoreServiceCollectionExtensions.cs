using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Warren.Storage.S3;

/// <summary>Registration of the S3 artifact store.</summary>
public static class S3StoreServiceCollectionExtensions
{
    /// <summary>Registers an <see cref="S3ArtifactStore"/> on options (validated now: an invalid one throws
    /// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>) as the singleton <see cref="IArtifactStore"/>.
    /// It coordinates put-if-absent, where the server cannot, through the registered <see cref="IKeyLock"/> (an
    /// <see cref="InProcessKeyLock"/> when there is none).</summary>
    public static IServiceCollection AddS3Store(this IServiceCollection services, S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        S3StoreOptionsValidator.ThrowIfInvalid(options);
        services.AddSingleton(options);
        services.AddSingleton(sp => new S3ArtifactStore(
            sp.GetRequiredService<S3StoreOptions>(),
            sp.GetService<IKeyLock>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<S3ArtifactStore>(),
            sp.GetService<TimeProvider>()));
        services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<S3ArtifactStore>());
        return services;
    }
}

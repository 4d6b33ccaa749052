using Microsoft.Extensions.DependencyInjection;

namespace Warren.Storage.FileSystem;

/// <summary>Registration of the file-system artifact store.</summary>
public static class FileSystemStoreServiceCollectionExtensions
{
    /// <summary>Registers a <see cref="FileSystemArtifactStore"/> on options (validated now: an invalid one throws
    /// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>) as the singleton <see cref="IArtifactStore"/>.</summary>
    public static IServiceCollection AddFileSystemStore(this IServiceCollection services, FileSystemStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        FileSystemStoreOptionsValidator.ThrowIfInvalid(options);
        services.AddSingleton(options);
        services.AddSingleton(sp => new FileSystemArtifactStore(sp.GetRequiredService<FileSystemStoreOptions>()));
        services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<FileSystemArtifactStore>());
        return services;
    }
}

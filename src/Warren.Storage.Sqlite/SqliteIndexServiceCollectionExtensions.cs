using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Warren.Storage.Sqlite;

/// <summary>Registers the SQLite module index.</summary>
public static class SqliteIndexServiceCollectionExtensions
{
    /// <summary>Registers <see cref="SqliteModuleIndex"/> as a singleton, also as <see cref="IModuleIndex"/>. The
    /// options are validated here (an <see cref="ArgumentException"/> listing every problem); the database is opened
    /// when the index is first resolved. Uses the registered <see cref="TimeProvider"/> and logger factory when there are.</summary>
    public static IServiceCollection AddSqliteIndex(this IServiceCollection services, SqliteIndexOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        services.AddSingleton(provider => new SqliteModuleIndex(
            options,
            provider.GetService<TimeProvider>(),
            provider.GetService<ILogger<SqliteModuleIndex>>()));
        services.AddSingleton<IModuleIndex>(provider => provider.GetRequiredService<SqliteModuleIndex>());
        return services;
    }
}

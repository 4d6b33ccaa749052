using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Warren.Storage.Postgres;

/// <summary>Registers the PostgreSQL providers.</summary>
public static class PostgresServiceCollectionExtensions
{
    /// <summary>Registers, as singletons, one <see cref="NpgsqlDataSource"/> built from the options, the
    /// <see cref="IModuleIndex"/> (<see cref="PostgresModuleIndex"/>, whose <see cref="PostgresModuleIndex.MigrateAsync"/>
    /// the host calls at start-up), the <see cref="IKeyLock"/> (<see cref="PostgresKeyLock"/>) and the
    /// <see cref="ILeaseProvider"/> (<see cref="PostgresLeaseProvider"/>).</summary>
    /// <exception cref="ArgumentException">The options are not valid: one line per problem, without the password.</exception>
    public static IServiceCollection AddPostgresIndex(this IServiceCollection services, PostgresIndexOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, problems), nameof(options));
        }

        services.AddSingleton(options);
        services.AddSingleton(sp =>
        {
            var builder = new NpgsqlDataSourceBuilder(options.BuildConnectionString());
            if (sp.GetService<ILoggerFactory>() is { } loggerFactory)
            {
                builder.UseLoggerFactory(loggerFactory);
            }

            return builder.Build();
        });
        services.AddSingleton(sp => new PostgresModuleIndex(sp.GetRequiredService<NpgsqlDataSource>(), options, sp.GetService<ILogger<PostgresModuleIndex>>()));
        services.AddSingleton<IModuleIndex>(sp => sp.GetRequiredService<PostgresModuleIndex>());
        services.AddSingleton<IKeyLock>(sp => new PostgresKeyLock(sp.GetRequiredService<NpgsqlDataSource>(), options));
        services.AddSingleton<ILeaseProvider>(sp => new PostgresLeaseProvider(sp.GetRequiredService<NpgsqlDataSource>(), options));
        return services;
    }
}

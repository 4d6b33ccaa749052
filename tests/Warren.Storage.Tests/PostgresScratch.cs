using Npgsql;
using Warren.Storage.Postgres;
using Warren.Testing.Services;

namespace Warren.Storage.Tests;

/// <summary>The PostgreSQL tests share one server (their collection's fixture) and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}

/// <summary>Fresh schemas and data sources of one test on the shared server; disposing drops the schemas and closes
/// the data sources. Each data source stands for one node.</summary>
internal sealed class PostgresScratch(PostgresServer server) : IAsyncDisposable
{
    private readonly List<NpgsqlDataSource> _sources = [];
    private readonly List<string> _schemas = [];

    public PostgresServer Server => server;

    /// <summary>Options for a schema no other test uses (or for schema, when given).</summary>
    public PostgresIndexOptions Options(string? schema = null)
    {
        if (schema is null)
        {
            schema = PostgresServer.NewSchemaName();
            lock (_schemas)
            {
                _schemas.Add(schema);
            }
        }

        return new PostgresIndexOptions { ConnectionString = server.ConnectionString, Schema = schema };
    }

    /// <summary>A data source of its own: a node's connections.</summary>
    public NpgsqlDataSource DataSource(PostgresIndexOptions options)
    {
        var source = new NpgsqlDataSourceBuilder(options.BuildConnectionString()).Build();
        lock (_sources)
        {
            _sources.Add(source);
        }

        return source;
    }

    /// <summary>A migrated index on a fresh schema (or, with schema, on that one), on a data source of its own.</summary>
    public async Task<PostgresModuleIndex> IndexAsync(string? schema = null)
    {
        var options = Options(schema);
        var index = new PostgresModuleIndex(DataSource(options), options);
        await index.MigrateAsync(CancellationToken.None);
        return index;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }

        if (_schemas.Count > 0)
        {
            await using var source = NpgsqlDataSource.Create(server.ConnectionString);
            foreach (var schema in _schemas)
            {
                await using var drop = source.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                await drop.ExecuteNonQueryAsync();
            }
        }
    }
}

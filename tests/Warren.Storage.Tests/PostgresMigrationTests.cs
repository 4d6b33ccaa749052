using Warren.Storage.Postgres;
using Warren.Testing.Services;

namespace Warren.Storage.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresMigrationTests(PostgresServer server) : IAsyncLifetime
{
    private readonly PostgresScratch _scratch = new(server);

    [Fact]
    public async Task Nodes_migrating_a_fresh_schema_at_once_all_succeed_and_apply_each_version_once()
    {
        var options = _scratch.Options();
        var nodes = Enumerable.Range(0, 6).Select(_ => new PostgresModuleIndex(_scratch.DataSource(options), options)).ToList();
        using var start = new ManualResetEventSlim();
        var runs = nodes.Select(node => Task.Run(async () =>
        {
            start.Wait();
            return await node.MigrateAsync(CancellationToken.None);
        })).ToList();
        start.Set();
        var applied = await Task.WhenAll(runs);

        // One node applied every version; the others found them done.
        Assert.Equal(PostgresMigrations.LatestVersion, applied.Sum());
        Assert.Single(applied, n => n == PostgresMigrations.LatestVersion);

        await using var command = _scratch.DataSource(options).CreateCommand($"SELECT version FROM \"{options.Schema}\".schema_migrations ORDER BY version");
        var versions = new List<int>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                versions.Add(reader.GetInt32(0));
            }
        }

        Assert.Equal(Enumerable.Range(1, PostgresMigrations.LatestVersion), versions);
        Assert.Equal(0, await nodes[0].MigrateAsync(CancellationToken.None));
        Assert.Null(await nodes[5].ProbeAsync(CancellationToken.None));
        Assert.Empty(await nodes[3].ListVersionsAsync("m.example/x", CancellationToken.None));
    }

    [Fact]
    public async Task The_counts_migration_starts_from_the_rows_of_the_version_before()
    {
        var options = _scratch.Options();
        var dataSource = _scratch.DataSource(options);
        await PostgresMigrations.MigrateAsync(dataSource, options.Schema, null, 7, CancellationToken.None);
        var s = $"\"{options.Schema}\"";
        await using (var fill = dataSource.CreateCommand($"""
            INSERT INTO {s}.artifacts (module, version, kind, hash, size, source, stored_at) VALUES
                ('m.example/a', 'v1.0.0', 'zip', 'h1:a=', 100, 'up', now()), ('m.example/a', 'v1.0.0', 'ziphash', 'h1:a=', 47, 'up', now()),
                ('m.example/a', 'v1.1.0', 'zip', 'h1:b=', 200, 'up', now()), ('m.example/b', 'v0.1.0', 'mod', 'h1:c=', 7, 'up', now());
            INSERT INTO {s}.feed (module, version, ts) VALUES ('m.example/a', 'v1.0.0', 1), ('m.example/a', 'v1.1.0', 2), ('m.example/b', 'v0.1.0', 3);
            INSERT INTO {s}.usage (module, version, last_access, downloads, evicted_at) VALUES
                ('m.example/a', 'v1.1.0', now(), 1, now()), ('m.example/gone', 'v1.0.0', now(), 0, now());
            """))
        {
            await fill.ExecuteNonQueryAsync();
        }

        var index = new PostgresModuleIndex(dataSource, options);
        Assert.Equal(PostgresMigrations.LatestVersion - 7, await index.MigrateAsync(CancellationToken.None));
        Assert.Equal(new IndexStats(2, 2, 107, 1), await index.GetStatsAsync(CancellationToken.None));
        var found = Assert.Single(await index.SearchModulesAsync("M.EXAMPLE/A", null, 10, CancellationToken.None));
        Assert.Equal(("m.example/a", 2L), (found.ModulePath, found.Versions));
    }

    [Fact]
    public async Task A_schema_newer_than_this_build_is_refused()
    {
        var index = await _scratch.IndexAsync();
        var options = _scratch.Options(index.Schema);
        await using (var bump = _scratch.DataSource(options).CreateCommand($"INSERT INTO \"{index.Schema}\".schema_migrations (version) VALUES ({PostgresMigrations.LatestVersion + 1})"))
        {
            await bump.ExecuteNonQueryAsync();
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.MigrateAsync(CancellationToken.None));
        Assert.Contains("newer", e.Message, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scratch.DisposeAsync();
}

using Npgsql;
using Warren.Storage.Postgres;
using Warren.Testing.Services;

namespace Warren.Storage.Tests;

/// <summary>The advisory key lock, between two nodes (two data sources).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresKeyLockTests(PostgresServer server) : IAsyncLifetime
{
    private static readonly TimeSpan Blocked = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly PostgresScratch _scratch = new(server);

    [Fact]
    public async Task A_key_is_held_by_one_node_at_a_time()
    {
        var options = _scratch.Options();
        var first = new PostgresKeyLock(_scratch.DataSource(options), options);
        var second = new PostgresKeyLock(_scratch.DataSource(options), options);

        var held = await first.AcquireAsync("m.example/a/@v/v1.0.0.zip", CancellationToken.None);
        var waiting = second.AcquireAsync("m.example/a/@v/v1.0.0.zip", CancellationToken.None).AsTask();
        await Task.Delay(Blocked);
        Assert.False(waiting.IsCompleted, "the second node got a key the first holds");

        // Another key is not held up.
        await using (await second.AcquireAsync("m.example/a/@v/v1.0.1.zip", CancellationToken.None).AsTask().WaitAsync(Soon))
        {
        }

        await held.DisposeAsync();
        var secondHeld = await waiting.WaitAsync(Soon);
        Assert.Equal(1, await GrantedCountAsync(options, "m.example/a/@v/v1.0.0.zip"));
        await secondHeld.DisposeAsync();
        Assert.Equal(0, await GrantedCountAsync(options, "m.example/a/@v/v1.0.0.zip"));
    }

    [Fact]
    public async Task Cancelling_a_wait_leaves_the_key_free_once_its_holder_releases_it()
    {
        var options = _scratch.Options();
        var first = new PostgresKeyLock(_scratch.DataSource(options), options);
        var secondSource = _scratch.DataSource(options);
        var second = new PostgresKeyLock(secondSource, options);

        var held = await first.AcquireAsync("k", CancellationToken.None);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AcquireAsync("k", cts.Token).AsTask().WaitAsync(Soon));
        }

        await held.DisposeAsync();
        Assert.Equal(0, await GrantedCountAsync(options, "k"));
        // Neither node holds it any more: each gets it at once, the cancelled one's pooled connections included.
        await using (await second.AcquireAsync("k", CancellationToken.None).AsTask().WaitAsync(Soon))
        {
        }

        await using (await first.AcquireAsync("k", CancellationToken.None).AsTask().WaitAsync(Soon))
        {
            Assert.Equal(1, await GrantedCountAsync(options, "k"));
        }
    }

    [Fact]
    public void Lock_ids_are_stable_and_differ_by_schema_and_key()
    {
        Assert.Equal(PostgresKeyLock.LockIdOf("warren", "a"), PostgresKeyLock.LockIdOf("warren", "a"));
        Assert.NotEqual(PostgresKeyLock.LockIdOf("warren", "a"), PostgresKeyLock.LockIdOf("warren", "b"));
        Assert.NotEqual(PostgresKeyLock.LockIdOf("warren", "a"), PostgresKeyLock.LockIdOf("other", "a"));
    }

    /// <summary>How many sessions hold the advisory lock of key (a bigint lock shows as classid = high half,
    /// objid = low half, objsubid = 1).</summary>
    private async Task<long> GrantedCountAsync(Warren.Storage.Postgres.PostgresIndexOptions options, string key)
    {
        var id = PostgresKeyLock.LockIdOf(options.Schema, key);
        await using var source = _scratch.DataSource(options);
        await using var command = source.CreateCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)((ulong)id >> 32) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)((ulong)id & 0xFFFFFFFF) });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scratch.DisposeAsync();
}

using Warren.Storage.Postgres;
using Warren.Testing.Services;

namespace Warren.Storage.Tests;

/// <summary>What every <see cref="ILeaseProvider"/> must do. <see cref="CreateProvidersAsync"/> gives two providers
/// on the same leases, as two nodes would have (one provider twice where there is no sharing).</summary>
public abstract class LeaseProviderContract
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    protected abstract Task<(ILeaseProvider First, ILeaseProvider Second)> CreateProvidersAsync();

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_held_lease_is_refused_to_everyone_else()
    {
        var (a, b) = await CreateProvidersAsync();
        await using var lease = await a.TryAcquireAsync("fetch:m@v1", Long, Ct);
        Assert.NotNull(lease);
        Assert.Equal("fetch:m@v1", lease.Key);
        Assert.True(lease.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(4), $"expires {lease.ExpiresAt:O}");
        Assert.Null(await b.TryAcquireAsync("fetch:m@v1", Long, Ct));
        Assert.Null(await a.TryAcquireAsync("fetch:m@v1", Long, Ct));
        await using var other = await b.TryAcquireAsync("fetch:m@v2", Long, Ct);
        Assert.NotNull(other);
    }

    [Fact]
    public async Task After_release_another_takes_it_with_a_larger_token()
    {
        var (a, b) = await CreateProvidersAsync();
        var first = await a.TryAcquireAsync("k", Long, Ct);
        Assert.NotNull(first);
        await first.DisposeAsync();
        Assert.False(await first.RenewAsync(Long, Ct));
        await using var second = await b.TryAcquireAsync("k", Long, Ct);
        Assert.NotNull(second);
        Assert.True(second.FencingToken > first.FencingToken, $"{second.FencingToken} after {first.FencingToken}");
        // Releasing the old lease again must not release the new holder's.
        await first.DisposeAsync();
        Assert.Null(await a.TryAcquireAsync("k", Long, Ct));
    }

    [Fact]
    public async Task An_expired_lease_is_taken_over_and_its_old_holder_cannot_renew()
    {
        var (a, b) = await CreateProvidersAsync();
        await using var old = await a.TryAcquireAsync("k", TimeSpan.FromMilliseconds(200), Ct);
        Assert.NotNull(old);
        Assert.Null(await b.TryAcquireAsync("k", Long, Ct));
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        await using var taken = await b.TryAcquireAsync("k", Long, Ct);
        Assert.NotNull(taken);
        Assert.True(taken.FencingToken > old.FencingToken, $"{taken.FencingToken} after {old.FencingToken}");
        Assert.False(await old.RenewAsync(Long, Ct));
        // The old holder's release leaves the new lease alone.
        await old.DisposeAsync();
        Assert.Null(await a.TryAcquireAsync("k", Long, Ct));
        Assert.True(await taken.RenewAsync(Long, Ct));
    }

    [Fact]
    public async Task Renewing_extends_the_lease()
    {
        var (a, b) = await CreateProvidersAsync();
        await using var lease = await a.TryAcquireAsync("k", TimeSpan.FromSeconds(30), Ct);
        Assert.NotNull(lease);
        var before = lease.ExpiresAt;
        Assert.True(await lease.RenewAsync(TimeSpan.FromMinutes(10), Ct));
        Assert.True(lease.ExpiresAt >= before.AddMinutes(9), $"{lease.ExpiresAt:O} after renewing {before:O}");
        Assert.Null(await b.TryAcquireAsync("k", Long, Ct));
        Assert.True(await lease.RenewAsync(TimeSpan.FromMinutes(1), Ct));
    }
}

public sealed class InProcessLeaseProviderTests : LeaseProviderContract
{
    protected override Task<(ILeaseProvider First, ILeaseProvider Second)> CreateProvidersAsync()
    {
        var provider = new InProcessLeaseProvider(TimeProvider.System);
        return Task.FromResult<(ILeaseProvider, ILeaseProvider)>((provider, provider));
    }
}

/// <summary>Leases in PostgreSQL: two providers on data sources of their own (two nodes), on a fresh schema.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLeaseProviderTests(PostgresServer server) : LeaseProviderContract, IAsyncLifetime
{
    private readonly PostgresScratch _scratch = new(server);

    protected override async Task<(ILeaseProvider First, ILeaseProvider Second)> CreateProvidersAsync()
    {
        var index = await _scratch.IndexAsync();
        var options = _scratch.Options(index.Schema);
        return (new PostgresLeaseProvider(_scratch.DataSource(options), options), new PostgresLeaseProvider(_scratch.DataSource(options), options));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scratch.DisposeAsync();
}

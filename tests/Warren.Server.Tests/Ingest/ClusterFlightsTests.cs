using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Warren.Server.Ingest;
using Warren.Storage;

namespace Warren.Server.Tests.Ingest;

/// <summary>Cross-node single-flight on one lease provider shared by two "nodes" (two ClusterFlights): one fetches, the
/// other waits for what it produced; a holder that died is taken over once its lease expires.</summary>
public sealed class ClusterFlightsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static ClusterFlights Node(ILeaseProvider leases, TimeSpan? lease = null) =>
        new(leases, lease ?? TimeSpan.FromSeconds(30), TimeProvider.System, Logger(out _));

    private static ILogger<ClusterFlights> Logger(out ConcurrentQueue<string> lines)
    {
        var provider = new CapturingLoggerProvider();
        lines = provider.Lines;
        return new Logger<ClusterFlights>(new LoggerFactory([provider]));
    }

    [Fact]
    public async Task The_second_node_waits_for_what_the_first_produces_and_never_runs_the_work()
    {
        var leases = new InProcessLeaseProvider(TimeProvider.System);
        var (a, b) = (Node(leases), Node(leases));
        var gate = new TaskCompletionSource();
        var stored = false;
        var works = 0;
        Task<FlightResult?> Shared(CancellationToken _) => Task.FromResult(Volatile.Read(ref stored) ? FlightResult.Stored : null);
        async Task<FlightResult> Work()
        {
            Interlocked.Increment(ref works);
            await gate.Task;
            Volatile.Write(ref stored, true);
            return FlightResult.Stored;
        }

        var first = a.RunAsync("zip:m@v1", Shared, Work, CancellationToken.None);
        while (Volatile.Read(ref works) == 0)
        {
            await Task.Delay(10);
        }

        var second = b.RunAsync("zip:m@v1", Shared, Work, CancellationToken.None);
        await Task.Delay(300);
        Assert.False(second.IsCompleted);
        gate.SetResult();
        Assert.True((await first.WaitAsync(Patience)).IsOk);
        Assert.True((await second.WaitAsync(Patience)).IsOk);
        Assert.Equal(1, works);
    }

    [Fact]
    public async Task A_lease_whose_holder_died_expires_and_another_node_takes_over()
    {
        var leases = new InProcessLeaseProvider(TimeProvider.System);
        var dead = await leases.TryAcquireAsync("flight:zip:m@v2", TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.NotNull(dead);

        var logger = Logger(out var lines);
        var survivor = new ClusterFlights(leases, TimeSpan.FromSeconds(30), TimeProvider.System, logger);
        var works = 0;
        var result = await survivor.RunAsync("zip:m@v2", _ => Task.FromResult<FlightResult?>(null), () =>
        {
            Interlocked.Increment(ref works);
            return Task.FromResult(FlightResult.Stored);
        }, CancellationToken.None).WaitAsync(Patience);

        Assert.True(result.IsOk);
        Assert.Equal(1, works);
        Assert.Contains(lines, l => l.Contains("Took over the cluster lease", StringComparison.Ordinal));
        Assert.False(await dead.RenewAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    [Fact]
    public async Task Without_a_shared_index_the_work_just_runs()
    {
        var single = new ClusterFlights(null, TimeSpan.FromSeconds(30), TimeProvider.System, Logger(out _));
        Assert.False(single.IsShared);
        var result = await single.RunAsync("k", _ => throw new InvalidOperationException("not asked without a cluster"), () => Task.FromResult(FlightResult.Stored), CancellationToken.None);
        Assert.True(result.IsOk);
    }
}

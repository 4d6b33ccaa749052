using Warren.Server.Ingest;

namespace Warren.Server.Tests.Ingest;

/// <summary>Concurrent calls with one key share one execution; faults reach every waiter and are not remembered; a
/// waiter that gives up leaves the others and the work alone.</summary>
public sealed class SingleFlightTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Concurrent_callers_share_one_execution_and_its_result()
    {
        var flights = new SingleFlight<string>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var executions = 0;
        async Task<string> Work()
        {
            Interlocked.Increment(ref executions);
            started.TrySetResult();
            await gate.Task;
            return "answer";
        }

        var calls = new List<Task<string>>();
        var joins = new List<bool>();
        for (var i = 0; i < 20; i++)
        {
            calls.Add(flights.RunAsync("key", Work, CancellationToken.None, out var joined));
            joins.Add(joined);
        }

        await started.Task.WaitAsync(Patience);
        Assert.Equal(1, flights.Count);
        Assert.All(calls, c => Assert.False(c.IsCompleted));
        gate.SetResult();

        var results = await Task.WhenAll(calls).WaitAsync(Patience);
        Assert.All(results, r => Assert.Equal("answer", r));
        Assert.Equal(1, Volatile.Read(ref executions));
        Assert.Single(joins, j => !j);
        Assert.Equal(19, joins.Count(j => j));
        await WaitUntilAsync(() => flights.Count == 0);
    }

    [Fact]
    public async Task Different_keys_run_separately()
    {
        var flights = new SingleFlight<string>();
        var a = flights.RunAsync("a", () => Task.FromResult("A"), CancellationToken.None, out var joinedA);
        var b = flights.RunAsync("b", () => Task.FromResult("B"), CancellationToken.None, out var joinedB);
        Assert.False(joinedA);
        Assert.False(joinedB);
        Assert.Equal("A", await a.WaitAsync(Patience));
        Assert.Equal("B", await b.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_fault_reaches_every_waiter_and_the_next_call_runs_again()
    {
        var flights = new SingleFlight<string>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var executions = 0;
        async Task<string> Failing()
        {
            Interlocked.Increment(ref executions);
            await gate.Task;
            throw new IOException("disk full");
        }

        var first = flights.RunAsync("key", Failing, CancellationToken.None, out _);
        var second = flights.RunAsync("key", Failing, CancellationToken.None, out var joined);
        Assert.True(joined);
        gate.SetResult();

        Assert.Equal("disk full", (await Assert.ThrowsAsync<IOException>(() => first.WaitAsync(Patience))).Message);
        Assert.Equal("disk full", (await Assert.ThrowsAsync<IOException>(() => second.WaitAsync(Patience))).Message);
        Assert.Equal(1, Volatile.Read(ref executions));

        // The fault is not remembered: the next call executes the work again.
        await WaitUntilAsync(() => flights.Count == 0);
        var retry = flights.RunAsync("key", () =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult("recovered");
        }, CancellationToken.None, out var joinedRetry);
        Assert.False(joinedRetry);
        Assert.Equal("recovered", await retry.WaitAsync(Patience));
        Assert.Equal(2, Volatile.Read(ref executions));
    }

    [Fact]
    public async Task A_waiter_that_gives_up_cancels_neither_the_work_nor_the_other_waiters()
    {
        var flights = new SingleFlight<string>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = 0;
        async Task<string> Work()
        {
            await gate.Task;
            Interlocked.Increment(ref finished);
            return "done";
        }

        using var impatient = new CancellationTokenSource();
        var leaving = flights.RunAsync("key", Work, impatient.Token, out var leavingJoined);
        var staying = flights.RunAsync("key", Work, CancellationToken.None, out var stayingJoined);
        Assert.False(leavingJoined);
        Assert.True(stayingJoined);

        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(Patience));
        Assert.False(staying.IsCompleted);
        Assert.Equal(1, flights.Count);

        gate.SetResult();
        Assert.Equal("done", await staying.WaitAsync(Patience));
        Assert.Equal(1, Volatile.Read(ref finished));
    }

    [Fact]
    public async Task A_call_made_after_a_run_was_seen_to_end_starts_a_new_run()
    {
        var flights = new SingleFlight<int>();
        var executions = 0;
        for (var i = 0; i < 500; i++)
        {
            var run = flights.RunAsync("key", () => Task.FromResult(Interlocked.Increment(ref executions)), CancellationToken.None, out var joined);
            Assert.False(joined, $"call {i} joined a run that had already ended");
            Assert.Equal(i + 1, await run.WaitAsync(Patience));
        }

        Assert.Equal(0, flights.Count);

        for (var i = 0; i < 100; i++)
        {
            var failing = flights.RunAsync("key", () => Task.FromException<int>(new IOException("no")), CancellationToken.None, out var joined);
            Assert.False(joined, $"failing call {i} joined a run that had already ended");
            await Assert.ThrowsAsync<IOException>(() => failing.WaitAsync(Patience));
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(10);
        }
    }
}

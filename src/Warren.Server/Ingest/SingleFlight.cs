using System.Collections.Concurrent;

namespace Warren.Server.Ingest;

/// <summary>Concurrent calls with the same key share one execution. The work runs under the server's lifetime, not the
/// first caller's request, so a caller that gives up never fails the others.</summary>
public sealed class SingleFlight<TResult>
{
    private readonly ConcurrentDictionary<string, Task<TResult>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Runs work for key unless it is already running; joined is true when this call shares another's run.</summary>
    public Task<TResult> RunAsync(string key, Func<Task<TResult>> work, CancellationToken waitToken, out bool joined)
    {
        joined = true;
        if (!_inFlight.TryGetValue(key, out var task))
        {
            var source = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            task = _inFlight.GetOrAdd(key, source.Task);
            if (task == source.Task)
            {
                joined = false;
                _ = RunAndCompleteAsync(key, work, source);
            }
        }

        return task.WaitAsync(waitToken);
    }

    public int Count => _inFlight.Count;

    private async Task RunAndCompleteAsync(string key, Func<Task<TResult>> work, TaskCompletionSource<TResult> source)
    {
        TResult result;
        try
        {
            result = await Task.Run(work).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Leave before completing: whoever sees the outcome and calls again starts a new run, never joins this one.
            _inFlight.TryRemove(new KeyValuePair<string, Task<TResult>>(key, source.Task));
            source.SetException(ex);
            return;
        }

        _inFlight.TryRemove(new KeyValuePair<string, Task<TResult>>(key, source.Task));
        source.SetResult(result);
    }
}

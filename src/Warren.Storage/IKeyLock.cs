namespace Warren.Storage;

/// <summary>Mutual exclusion per key among everyone who shares the storage: within the process for one node, across
/// nodes (PostgreSQL advisory locks) for a cluster. Used where a provider cannot make a write conditional by itself,
/// such as put-if-absent on an S3 server that ignores If-None-Match.</summary>
public interface IKeyLock
{
    /// <summary>Waits until key is held by the caller; disposing the result releases it.</summary>
    ValueTask<IAsyncDisposable> AcquireAsync(string key, CancellationToken cancellationToken);
}

/// <summary>An <see cref="IKeyLock"/> for one process: a fixed set of striped semaphores, so memory stays bounded
/// however many keys pass through.</summary>
public sealed class InProcessKeyLock : IKeyLock
{
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public async ValueTask<IAsyncDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)_stripes.Length)];
        await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(stripe);
    }

    private sealed class Releaser(SemaphoreSlim stripe) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                stripe.Release();
            }

            return ValueTask.CompletedTask;
        }
    }
}

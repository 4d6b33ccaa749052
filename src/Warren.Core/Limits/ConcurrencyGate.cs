namespace Warren.Core.Limits;

/// <summary>A global limit on concurrent operations (outbound fetches, git processes), with the numbers a metrics
/// gauge shows: in use, waiting, and the highest number in use seen. Waiting respects cancellation.</summary>
public sealed class ConcurrencyGate : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private int _inUse;
    private int _waiting;
    private int _peak;

    public ConcurrencyGate(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
        _slots = new SemaphoreSlim(limit, limit);
    }

    public int Limit { get; }

    public int InUse => Volatile.Read(ref _inUse);

    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The highest number of operations that ran at once.</summary>
    public int Peak => Volatile.Read(ref _peak);

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        if (!_slots.Wait(0, CancellationToken.None))
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        var now = Interlocked.Increment(ref _inUse);
        int peak;
        while (now > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }

        return new Slot(this);
    }

    public void Dispose() => _slots.Dispose();

    private void Exit()
    {
        Interlocked.Decrement(ref _inUse);
        try
        {
            _slots.Release();
        }
        catch (ObjectDisposedException)
        {
            // Shutting down: the gate went first.
        }
    }

    /// <summary>One held slot; disposing it again does nothing.</summary>
    public sealed class Slot : IDisposable
    {
        private ConcurrencyGate? _gate;

        internal Slot(ConcurrencyGate gate) => _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Exit();
    }
}

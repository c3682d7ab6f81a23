namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// CherryPy's worker pool in Kestrel terms, for any module: at most <c>thread_pool</c> requests run at once
/// and at most <c>queue_size</c> more wait for a slot (bounded in time); beyond that the module answers 503
/// at once. Take a slot only after the body is read (<see cref="RequestBodyBudget"/>), so that slow senders
/// never hold one.
/// </summary>
public sealed class RequestGate : IDisposable
{
    private readonly int threadPool;
    private readonly int queueSize;
    private readonly TimeSpan maxWait;
    private readonly SemaphoreSlim slots;
    private int waiting;

    /// <summary>A gate of <paramref name="threadPool"/> slots and <paramref name="queueSize"/> places to wait, each for at most <paramref name="maxWait"/>.</summary>
    public RequestGate(int threadPool, int queueSize, TimeSpan maxWait)
    {
        (this.threadPool, this.queueSize, this.maxWait) = (threadPool, queueSize, maxWait);
        slots = new SemaphoreSlim(threadPool, threadPool);
        NetapiMetrics.Register(this);
    }

    /// <summary>Requests holding a slot.</summary>
    internal long InUse => threadPool - slots.CurrentCount;

    /// <summary>Requests waiting for a slot.</summary>
    internal long Waiting => Math.Clamp(Volatile.Read(ref waiting), 0, queueSize);

    /// <summary>The module this gate serves (its metrics label): that of the first request through it.</summary>
    internal string? ModuleName { get; private set; }

    /// <summary>Takes a slot; false when the queue is full or the wait timed out.</summary>
    public async Task<bool> EnterAsync(CancellationToken cancellationToken)
    {
        // A gate serves one module: its label is that of the first request through it.
        ModuleName ??= NetapiMetrics.ModuleName();
        if (slots.Wait(0, CancellationToken.None))
        {
            return true;
        }

        if (Interlocked.Increment(ref waiting) > queueSize)
        {
            Interlocked.Decrement(ref waiting);
            NetapiMetrics.Refused.Add(1, NetapiMetrics.Module(), new KeyValuePair<string, object?>("reason", "queue_full"));
            return false;
        }

        try
        {
            if (await slots.WaitAsync(maxWait, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            NetapiMetrics.Refused.Add(1, NetapiMetrics.Module(), new KeyValuePair<string, object?>("reason", "wait_timeout"));
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
    }

    /// <summary>Gives a slot back.</summary>
    public void Exit() => slots.Release();

    /// <inheritdoc/>
    public void Dispose()
    {
        NetapiMetrics.Unregister(this);
        slots.Dispose();
    }
}

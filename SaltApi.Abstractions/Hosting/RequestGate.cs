namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// CherryPy's worker pool in Kestrel terms, for any module: at most <c>thread_pool</c> requests run at once
/// and at most <c>queue_size</c> more wait for a slot (bounded in time); beyond that the module answers 503
/// at once. Take a slot only after the body is read (<see cref="RequestBodyBudget"/>), so that slow senders
/// never hold one.
/// </summary>
public sealed class RequestGate(int threadPool, int queueSize, TimeSpan maxWait) : IDisposable
{
    private readonly SemaphoreSlim slots = new(threadPool, threadPool);
    private int waiting;
    private KeyValuePair<string, object?>? module;

    /// <summary>Takes a slot; false when the queue is full or the wait timed out.</summary>
    public async Task<bool> EnterAsync(CancellationToken cancellationToken)
    {
        // A gate serves one module: its label is that of the first request through it.
        var label = module ??= NetapiMetrics.Module();
        if (slots.Wait(0, CancellationToken.None))
        {
            NetapiMetrics.SlotsInUse.Add(1, label);
            return true;
        }

        if (Interlocked.Increment(ref waiting) > queueSize)
        {
            Interlocked.Decrement(ref waiting);
            NetapiMetrics.Refused.Add(1, label, new KeyValuePair<string, object?>("reason", "queue_full"));
            return false;
        }

        NetapiMetrics.SlotsWaiting.Add(1, label);
        try
        {
            if (await slots.WaitAsync(maxWait, cancellationToken).ConfigureAwait(false))
            {
                NetapiMetrics.SlotsInUse.Add(1, label);
                return true;
            }

            NetapiMetrics.Refused.Add(1, label, new KeyValuePair<string, object?>("reason", "wait_timeout"));
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
            NetapiMetrics.SlotsWaiting.Add(-1, label);
        }
    }

    /// <summary>Gives a slot back.</summary>
    public void Exit()
    {
        slots.Release();
        NetapiMetrics.SlotsInUse.Add(-1, module ?? NetapiMetrics.Module());
    }

    /// <inheritdoc/>
    public void Dispose() => slots.Dispose();
}

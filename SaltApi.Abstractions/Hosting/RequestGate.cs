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

    /// <summary>Takes a slot; false when the queue is full or the wait timed out.</summary>
    public async Task<bool> EnterAsync(CancellationToken cancellationToken)
    {
        if (slots.Wait(0, CancellationToken.None))
        {
            return true;
        }

        if (Interlocked.Increment(ref waiting) > queueSize)
        {
            Interlocked.Decrement(ref waiting);
            return false;
        }

        try
        {
            return await slots.WaitAsync(maxWait, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
    }

    /// <summary>Gives a slot back.</summary>
    public void Exit() => slots.Release();

    /// <inheritdoc/>
    public void Dispose() => slots.Dispose();
}

namespace SaltApi.Plugins.RestCherrypyCompat.Http;

/// <summary>
/// CherryPy's worker pool in Kestrel terms: at most <c>thread_pool</c> requests run at once and
/// at most <c>queue_size</c> more wait for a slot (bounded in time); beyond that a 503 answers
/// at once. Event streams and WebSockets are not counted: they would hold a worker for their
/// whole life in CherryPy, which is how a few SSE clients starve the API there.
/// </summary>
internal sealed class RequestGate(int threadPool, int queueSize, TimeSpan maxWait) : IDisposable
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
            return await slots.WaitAsync(maxWait, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
    }

    /// <summary>Gives a slot back.</summary>
    public void Exit() => slots.Release();

    public void Dispose() => slots.Dispose();
}

namespace SaltApi.Plugins.RestWsgi;

/// <summary>
/// At most <c>thread_pool</c> requests run at once and <c>queue_size</c> more wait (bounded in time);
/// beyond that a 503 at once, as rest_cherrypy's gate. Salt's wsgiref server runs one request at a time.
/// </summary>
internal sealed class WsgiGate(int threadPool, int queueSize, TimeSpan maxWait) : IDisposable
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

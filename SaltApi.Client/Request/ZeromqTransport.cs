using Microsoft.Extensions.Logging;
using SaltApi.Client.Config;

namespace SaltApi.Client.Request;

/// <summary>
/// The ZeroMQ request transport (spec/01 §1, §6): clear payloads to <c>master_uri</c>, on a few threads so
/// concurrent requests never wait for each other's round trip. Two ways, by <c>saltapi_client.request_socket</c>:
/// <list type="bullet">
/// <item><c>dealer</c> (the default): one DEALER socket per thread carries many requests at once, each sent as
/// <c>[request id][empty][payload]</c>. The master's ROUTER prepends the connection's identity, its queue device
/// hands the message to a REP worker, and REP echoes every frame before the empty one in front of its reply, so
/// the reply comes back as <c>[request id][empty][reply]</c> (see <see cref="DealerWorker"/>).</item>
/// <item><c>req</c>: a bounded pool of REQ sockets, one request in flight on each, as Salt's own client (one REQ
/// socket per attempt). A request with no reply in time has its socket thrown away; it is sent again on a fresh
/// one (Salt's lazy pirate) only when it cannot have reached the master: its socket never had a connection.</item>
/// </list>
/// Each socket is owned by one worker thread (NetMQ sockets are not thread-safe); requests reach the thread through
/// a lock-free queue. A socket monitor reports connections made and dropped: when the connection of a request in
/// flight drops, no reply can come (the master went away with it), and the request fails at once.
/// </summary>
internal sealed partial class ZeromqTransport : IRequestTransport
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "request timed out before it reached the master, attempt {Attempt} of {Tries}; retrying on a fresh socket")]
    private static partial void LogRetry(ILogger log, int attempt, int tries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the connection to the master dropped: {Count} request(s) in flight failed")]
    private static partial void LogDropped(ILogger log, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "no connection to the master: {Count} request(s) not sent failed")]
    private static partial void LogNotSent(ILogger log, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the master does not echo a request's envelope (a Salt 3008 master with worker pools answers \"Routing error\"): ZeroMQ requests go over REQ sockets from now on; set saltapi_client: {{request_socket: req}} for this master")]
    private static partial void LogFallBack(ILogger log);

    private readonly ClientOptions options;
    private readonly IWorker[] workers;
    private readonly ILogger log;
    private readonly ExistsProbe? runningFile;
    private readonly Lock fallBackLock = new();
    private volatile IWorker[]? reqWorkers;
    private int next;
    private long drops;
    private volatile bool disposed;

    public ZeromqTransport(ClientOptions options, ILogger log)
    {
        this.options = options;
        this.log = log;
        runningFile = options.MasterRunningFile is { } file ? new ExistsProbe(file) : null;
        workers = options.RequestSocket == "req" ? ReqWorkers() : Workers(i => new DealerWorker(this, i));
        reqWorkers = options.RequestSocket == "req" ? workers : null;
    }

    /// <summary>A worker thread: owns its sockets, takes requests from any thread.</summary>
    private interface IWorker : IDisposable
    {
        void Enqueue(PendingRequest work);

        void FailInFlight();

        int OpenSockets { get; }
    }

    private IWorker[] ReqWorkers() => Workers(i => new Worker(this, Math.Max(1, options.RequestSockets / options.RequestThreads), i));

    private IWorker[] Workers(Func<int, IWorker> create) => [.. Enumerable.Range(0, options.RequestThreads).Select(create)];

    /// <summary>Every worker: <see cref="workers"/>, and the REQ pool a DEALER fell back to (<paramref name="pool"/>) when it is another.</summary>
    private IEnumerable<IWorker> AllWorkers(IWorker[]? pool) => pool is null || pool == workers ? workers : workers.Concat(pool);

    /// <inheritdoc/>
    public long Drops => Volatile.Read(ref drops);

    /// <summary>A socket's connection dropped (on a worker thread): requests made before it are not sent any more.</summary>
    private void OnDropped() => Interlocked.Increment(ref drops);

    /// <inheritdoc/>
    public async Task<byte[]> SendAsync(byte[] payload, TimeSpan timeout, int tries, long drops, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var work = new PendingRequest(payload, timeout, tries, drops) { MasterFileSeen = runningFile is not null && runningFile.Exists() };
        Pick(reqWorkers ?? workers).Enqueue(work);
        return await work.ReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    private IWorker Pick(IWorker[] pool) => pool.Length == 1 ? pool[0] : pool[(int)((uint)Interlocked.Increment(ref next) % (uint)pool.Length)];

    /// <summary>
    /// A DEALER found that the master does not echo envelopes (a Salt 3008 master's pooled request device reads the
    /// payload from a fixed frame and answers "Routing error" without running the request): every request from now on,
    /// and the ones handed over here, go over REQ sockets. Called on a DEALER worker's thread.
    /// </summary>
    private void FallBackToReq(PendingRequest? handedOver)
    {
        if (reqWorkers is null)
        {
            lock (fallBackLock)
            {
                if (reqWorkers is null && !disposed)
                {
                    LogFallBack(log);
                    reqWorkers = ReqWorkers();
                }
            }
        }

        if (handedOver is not null)
        {
            if (reqWorkers is { } pool && !disposed)
            {
                Pick(pool).Enqueue(handedOver);
            }
            else
            {
                handedOver.Reply.TrySetException(new ObjectDisposedException(nameof(ZeromqTransport)));
            }
        }
    }

    /// <summary>
    /// The master went away (its event bus closed and cannot be reached): fails every request in flight at
    /// once. Requests sent after this are not affected.
    /// </summary>
    public void FailInFlight()
    {
        foreach (var w in AllWorkers(reqWorkers))
        {
            w.FailInFlight();
        }
    }

    /// <summary>DEALER or REQ sockets open now, over all threads (each with its monitor).</summary>
    public int OpenSockets => AllWorkers(reqWorkers).Sum(w => w.OpenSockets);

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        IWorker[]? pool;
        lock (fallBackLock)
        {
            disposed = true;
            pool = reqWorkers;
        }

        foreach (var w in AllWorkers(pool))
        {
            w.Dispose();
        }

        log.LogDebug("ZeroMQ request transport closed");
    }
}

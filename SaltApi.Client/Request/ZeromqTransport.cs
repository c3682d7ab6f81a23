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

    private static readonly long NoConnectionTicks = (long)(RequestChannel.NoConnectionWait.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);

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
        if (options.RequestSocket == "req")
        {
            workers = ReqWorkers(this, options, log);
            reqWorkers = workers;
        }
        else
        {
            workers = new IWorker[options.RequestThreads];
            for (var i = 0; i < workers.Length; i++)
            {
                workers[i] = new DealerWorker(this, options, i, log);
            }
        }
    }

    /// <summary>A worker thread: owns its sockets, takes requests from any thread.</summary>
    private interface IWorker : IDisposable
    {
        void Enqueue(Work work);

        void FailInFlight();

        int OpenSockets { get; }
    }

    private static IWorker[] ReqWorkers(ZeromqTransport transport, ClientOptions options, ILogger log)
    {
        var idlePerThread = Math.Max(1, options.RequestSockets / options.RequestThreads);
        var w = new IWorker[options.RequestThreads];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = new Worker(transport, options, idlePerThread, i, log);
        }

        return w;
    }

    /// <inheritdoc/>
    public long Drops => Volatile.Read(ref drops);

    /// <summary>A socket's connection dropped (on a worker thread): requests made before it are not sent any more.</summary>
    private void OnDropped() => Interlocked.Increment(ref drops);

    /// <summary>A connection dropped since the request was made: it is not sent (on a worker thread, before it would be).</summary>
    private bool Stale(Work w) => w.Drops != Volatile.Read(ref drops) && w.Reply.TrySetException(new MasterGoneException());

    /// <inheritdoc/>
    public async Task<byte[]> SendAsync(byte[] payload, TimeSpan timeout, int tries, long drops, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var work = new Work(payload, timeout, tries)
        {
            MasterFileSeen = runningFile is not null && runningFile.Exists(),
            Drops = drops,
        };
        Pick(reqWorkers ?? workers).Enqueue(work);
        using (cancellationToken.CanBeCanceled ? cancellationToken.Register(static w => ((Work)w!).Reply.TrySetCanceled(), work) : default)
        {
            return await work.Reply.Task.ConfigureAwait(false);
        }
    }

    private IWorker Pick(IWorker[] pool) => pool.Length == 1 ? pool[0] : pool[(int)((uint)Interlocked.Increment(ref next) % (uint)pool.Length)];

    /// <summary>
    /// A DEALER found that the master does not echo envelopes (a Salt 3008 master's pooled request device reads the
    /// payload from a fixed frame and answers "Routing error" without running the request): every request from now on,
    /// and the ones handed over here, go over REQ sockets. Called on a DEALER worker's thread.
    /// </summary>
    private void FallBackToReq(Work? handedOver)
    {
        if (reqWorkers is null)
        {
            lock (fallBackLock)
            {
                if (reqWorkers is null && !disposed)
                {
                    LogFallBack(log);
                    reqWorkers = ReqWorkers(this, options, log);
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
        foreach (var w in workers)
        {
            w.FailInFlight();
        }

        if (reqWorkers is { } pool && pool != workers)
        {
            foreach (var w in pool)
            {
                w.FailInFlight();
            }
        }
    }

    /// <summary>DEALER or REQ sockets open now, over all threads (each with its monitor).</summary>
    public int OpenSockets => workers.Sum(w => w.OpenSockets) + (reqWorkers is { } pool && pool != workers ? pool.Sum(w => w.OpenSockets) : 0);

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

        foreach (var w in workers)
        {
            w.Dispose();
        }

        if (pool is not null && pool != workers)
        {
            foreach (var w in pool)
            {
                w.Dispose();
            }
        }

        log.LogDebug("ZeroMQ request transport closed");
    }

    private sealed class Work(byte[] payload, TimeSpan timeout, int tries)
    {
        public byte[] Payload { get; } = payload;

        public TimeSpan Timeout { get; } = timeout;

        public int Tries { get; } = tries;

        public int Attempt { get; set; }

        /// <summary>When the request was made (a Stopwatch timestamp): unsent for want of a connection, it fails after <see cref="RequestChannel.NoConnectionWait"/>.</summary>
        public long Queued { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

        /// <summary>The master's running file existed when the request was made.</summary>
        public bool MasterFileSeen { get; init; }

        /// <summary>The transport's drop count the request may be sent at (see <see cref="IRequestTransport.SendAsync"/>).</summary>
        public long Drops { get; init; }

        /// <summary>The current attempt's socket was connected at some time: the request may have reached the master.</summary>
        public bool Reached { get; set; }

        public long Deadline { get; set; }

        /// <summary>DEALER: the request's id in its envelope, while it waits for its reply.</summary>
        public uint Id { get; set; }

        /// <summary>
        /// When the request gives up: its timeout times its tries, as long as Salt's client waits over all its tries (the
        /// DEALER counts from when its thread took it). Not sent yet (no connection), it waits for one until then; sent,
        /// it waits for its reply until then (and at least one attempt's time), never sent again. Deliberate difference
        /// from Salt, whose client sends it again after each attempt's timeout (a publish that reached a congested
        /// master runs twice): a master that stalls for longer than one attempt still answers the one request sent.
        /// </summary>
        public long LastDeadline { get; set; } = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Math.Max(1, tries) * System.Diagnostics.Stopwatch.Frequency);

        public TaskCompletionSource<byte[]> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

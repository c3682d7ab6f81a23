using Microsoft.Extensions.Logging;
using SaltApi.Client.Config;

namespace SaltApi.Client.Request;

/// <summary>
/// The ZeroMQ request transport (spec/01 §1, §6): clear payloads over REQ sockets to
/// <c>master_uri</c>. Salt's client opens one REQ socket per attempt; we keep a bounded pool of
/// them on a few threads so concurrent requests never wait for each other's round trip. Each
/// socket is owned by one worker thread (NetMQ sockets are not thread-safe); requests reach
/// the thread through a lock-free queue. A request with no reply in time has its socket thrown
/// away; it is sent again on a fresh one (Salt's lazy pirate) only when it cannot have reached the
/// master: its socket never had a connection. A socket monitor per REQ socket reports connections
/// made and dropped: when the connection of a request in flight drops, no reply can come (the master
/// went away with it), and the request fails at once.
/// </summary>
internal sealed partial class ZeromqTransport : IRequestTransport
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "request timed out before it reached the master, attempt {Attempt} of {Tries}; retrying on a fresh socket")]
    private static partial void LogRetry(ILogger log, int attempt, int tries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the connection to the master dropped: {Count} request(s) in flight failed")]
    private static partial void LogDropped(ILogger log, int count);

    private readonly Worker[] workers;
    private readonly ILogger log;
    private readonly ExistsProbe? runningFile;
    private int next;
    private volatile bool disposed;

    public ZeromqTransport(ClientOptions options, ILogger log)
    {
        this.log = log;
        runningFile = options.MasterRunningFile is { } file ? new ExistsProbe(file) : null;
        var idlePerThread = Math.Max(1, options.RequestSockets / options.RequestThreads);
        workers = new Worker[options.RequestThreads];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new Worker(options, idlePerThread, i, log);
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]> SendAsync(byte[] payload, TimeSpan timeout, int tries, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var work = new Work(payload, timeout, tries)
        {
            MasterFileSeen = runningFile is not null && runningFile.Exists(),
        };
        var worker = workers.Length == 1 ? workers[0] : workers[(int)((uint)Interlocked.Increment(ref next) % (uint)workers.Length)];
        worker.Enqueue(work);
        using (cancellationToken.CanBeCanceled ? cancellationToken.Register(static w => ((Work)w!).Reply.TrySetCanceled(), work) : default)
        {
            return await work.Reply.Task.ConfigureAwait(false);
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
    }

    /// <summary>REQ sockets open now, over all threads (each with its monitor).</summary>
    public int OpenSockets => workers.Sum(w => w.OpenSockets);

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var w in workers)
        {
            w.Dispose();
        }

        log.LogDebug("ZeroMQ request transport closed");
    }

    private sealed class Work(byte[] payload, TimeSpan timeout, int tries)
    {
        public byte[] Payload { get; } = payload;

        public TimeSpan Timeout { get; } = timeout;

        public int Tries { get; } = tries;

        public int Attempt { get; set; }

        /// <summary>The master's running file existed when the request was made.</summary>
        public bool MasterFileSeen { get; init; }

        /// <summary>The current attempt's socket was connected at some time: the request may have reached the master.</summary>
        public bool Reached { get; set; }

        public long Deadline { get; set; }

        public TaskCompletionSource<byte[]> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using SaltApi.Client.Config;
using SaltApi.Protocol.Channel;

namespace SaltApi.Client.Request;

/// <summary>No reply after every attempt (Salt's SaltReqTimeoutError).</summary>
internal sealed class RequestTimeoutException() : Exception("Message timed out");

/// <summary>The master's "running" file went away while the request waited: no reply will come.</summary>
internal sealed class MasterGoneException() : Exception("Salt Master is not available.");

/// <summary>
/// The master's request channel (spec/01 §1, §6): clear loads over ZeroMQ REQ sockets to
/// <c>master_uri</c>. Salt's client opens one REQ socket per attempt; we keep a bounded pool of
/// them on a few threads so concurrent requests never wait for each other's round trip. Each
/// socket is owned by one poller thread (NetMQ sockets are not thread-safe); requests reach
/// the thread through a <see cref="NetMQQueue{T}"/>. A request with no reply in time has its
/// socket thrown away and is sent again on a fresh one (lazy pirate), as Salt's client does.
/// </summary>
internal sealed partial class RequestChannel : IDisposable
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "request timed out, attempt {Attempt} of {Tries}; retrying on a fresh socket")]
    private static partial void LogRetry(ILogger log, int attempt, int tries);

    private readonly Worker[] workers;
    private readonly SemaphoreSlim slots;
    private readonly ILogger log;
    private readonly string? runningFile;
    private int next;
    private volatile bool disposed;

    public RequestChannel(ClientOptions options, ILogger log)
    {
        this.log = log;
        runningFile = options.MasterRunningFile;
        slots = new SemaphoreSlim(options.RequestSockets, options.RequestSockets);
        var idlePerThread = Math.Max(1, options.RequestSockets / options.RequestThreads);
        workers = new Worker[options.RequestThreads];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new Worker(options, idlePerThread, i, log);
        }
    }

    /// <summary>Sends one clear load and returns the decoded reply (any msgpack value).</summary>
    /// <exception cref="RequestTimeoutException">No reply after <paramref name="tries"/> attempts.</exception>
    public async Task<object?> SendAsync(IEnumerable<KeyValuePair<string, object?>> load, TimeSpan timeout, int tries, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var payload = ClearEnvelope.Encode(load);
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var work = new Work(payload, timeout, tries)
            {
                MasterFileSeen = runningFile is not null && File.Exists(runningFile),
            };
            var worker = workers[(int)((uint)Interlocked.Increment(ref next) % (uint)workers.Length)];
            worker.Enqueue(work);
            using (cancellationToken.Register(static w => ((Work)w!).Reply.TrySetCanceled(), work))
            {
                var reply = await work.Reply.Task.ConfigureAwait(false);
                return ClearEnvelope.DecodeReply(reply);
            }
        }
        finally
        {
            slots.Release();
        }
    }

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

        log.LogDebug("request channel closed");
    }

    private sealed class Work(byte[] payload, TimeSpan timeout, int tries)
    {
        public byte[] Payload { get; } = payload;

        public TimeSpan Timeout { get; } = timeout;

        public int Tries { get; } = tries;

        public int Attempt { get; set; }

        /// <summary>The master's running file existed when the request was made.</summary>
        public bool MasterFileSeen { get; init; }

        public long Deadline { get; set; }

        public TaskCompletionSource<byte[]> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One poller thread and the sockets it owns.</summary>
    private sealed class Worker : IDisposable
    {
        private static readonly TimeSpan Sweep = TimeSpan.FromMilliseconds(20);
        private readonly ClientOptions options;
        private readonly int maxIdle;
        private readonly ILogger log;
        private readonly NetMQPoller poller;
        private readonly NetMQQueue<Work> queue = new();
        private readonly NetMQTimer timer = new(Sweep);
        private readonly Dictionary<RequestSocket, Work> inflight = [];
        private readonly Stack<RequestSocket> idle = new();
        private readonly List<RequestSocket> expired = [];
        private int sweeps;

        public Worker(ClientOptions options, int maxIdle, int index, ILogger log)
        {
            this.options = options;
            this.maxIdle = maxIdle;
            this.log = log;
            queue.ReceiveReady += (_, _) =>
            {
                while (queue.TryDequeue(out var w, TimeSpan.Zero))
                {
                    Start(w);
                }
            };
            timer.Elapsed += (_, _) => SweepExpired();
            poller = [queue, timer];
            poller.RunAsync($"salt-req-{index}", isBackgroundThread: true);
        }

        private volatile bool stopped;

        public void Enqueue(Work work)
        {
            if (stopped)
            {
                work.Reply.TrySetException(new ObjectDisposedException(nameof(RequestChannel)));
                return;
            }

            queue.Enqueue(work);
        }

        private void Start(Work w)
        {
            if (w.Reply.Task.IsCompleted)
            {
                return;
            }

            // A retry always gets a brand-new socket: a REQ socket that sent without a reply is unusable.
            var socket = w.Attempt == 0 && idle.Count > 0 ? idle.Pop() : Create();
            w.Attempt++;
            w.Deadline = Stopwatch.GetTimestamp() + (long)(w.Timeout.TotalSeconds * Stopwatch.Frequency);
            inflight[socket] = w;
            if (!socket.TrySendFrame(TimeSpan.Zero, w.Payload))
            {
                // Cannot even queue the message: let the sweep treat it as a timed-out attempt.
                w.Deadline = 0;
            }
        }

        private RequestSocket Create()
        {
            var s = new RequestSocket();
            s.Options.Linger = TimeSpan.Zero;
            s.Options.ReconnectIntervalMax = TimeSpan.FromSeconds(5);
            if (options.TcpKeepalive is { } ka)
            {
                s.Options.TcpKeepalive = ka;
                if (options.TcpKeepaliveIdle > 0)
                {
                    s.Options.TcpKeepaliveIdle = TimeSpan.FromSeconds(options.TcpKeepaliveIdle);
                }

                if (options.TcpKeepaliveIntvl > 0)
                {
                    s.Options.TcpKeepaliveInterval = TimeSpan.FromSeconds(options.TcpKeepaliveIntvl);
                }
            }

            if (options.Master.ClientHost.Contains(':', StringComparison.Ordinal))
            {
                s.Options.IPv4Only = false;
            }

            s.ReceiveReady += OnReceiveReady;
            s.Connect(options.Master.MasterUri);
            poller.Add(s);
            return s;
        }

        private void OnReceiveReady(object? sender, NetMQSocketEventArgs e)
        {
            var socket = (RequestSocket)e.Socket;
            var msg = new NetMQMessage();
            if (!socket.TryReceiveMultipartMessage(TimeSpan.Zero, ref msg))
            {
                return;
            }

            if (!inflight.Remove(socket, out var w))
            {
                Drop(socket);
                return;
            }

            // Salt replies with exactly one frame; take the last one should a peer send more.
            w.Reply.TrySetResult(msg.Last.ToByteArray());
            if (idle.Count < maxIdle)
            {
                idle.Push(socket);
            }
            else
            {
                Drop(socket);
            }
        }

        private void SweepExpired()
        {
            // Deliberate difference: Salt waits out every attempt (60 s x 3 for runner/wheel) when the master
            // dies mid-request. When its "running" file, present when the request was made, is gone, no reply
            // can come: fail at once (503).
            if (inflight.Count > 0 && ++sweeps % 10 == 0 && options.MasterRunningFile is { } file && !File.Exists(file))
            {
                // The loop below then throws their sockets away.
                foreach (var w in inflight.Values)
                {
                    if (w.MasterFileSeen)
                    {
                        w.Reply.TrySetException(new MasterGoneException());
                    }
                }
            }

            var now = Stopwatch.GetTimestamp();
            foreach (var (socket, w) in inflight)
            {
                if (w.Reply.Task.IsCompleted || now >= w.Deadline)
                {
                    expired.Add(socket);
                }
            }

            foreach (var socket in expired)
            {
                inflight.Remove(socket, out var w);
                Drop(socket);
                if (w is null || w.Reply.Task.IsCompleted)
                {
                    continue;
                }

                if (w.Attempt < w.Tries)
                {
                    LogRetry(log, w.Attempt, w.Tries);
                    Start(w);
                }
                else
                {
                    w.Reply.TrySetException(new RequestTimeoutException());
                }
            }

            expired.Clear();
        }

        private void Drop(RequestSocket socket)
        {
            socket.ReceiveReady -= OnReceiveReady;
            poller.RemoveAndDispose(socket);
        }

        public void Dispose()
        {
            stopped = true;
            try
            {
                poller.Stop();
            }
            catch (InvalidOperationException)
            {
                // not running
            }

            foreach (var (socket, w) in inflight)
            {
                w.Reply.TrySetException(new ObjectDisposedException(nameof(RequestChannel)));
                socket.Dispose();
            }

            while (queue.TryDequeue(out var w, TimeSpan.Zero))
            {
                w.Reply.TrySetException(new ObjectDisposedException(nameof(RequestChannel)));
            }

            foreach (var socket in idle)
            {
                socket.Dispose();
            }

            inflight.Clear();
            idle.Clear();
            poller.Dispose();
            queue.Dispose();
        }
    }
}

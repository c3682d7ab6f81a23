using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
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
    private readonly string? runningFile;
    private int next;
    private volatile bool disposed;

    public ZeromqTransport(ClientOptions options, ILogger log)
    {
        this.log = log;
        runningFile = options.MasterRunningFile;
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
            MasterFileSeen = runningFile is not null && File.Exists(runningFile),
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

    /// <summary>
    /// One thread and the REQ sockets it owns. For speed it runs its own poll loop rather than a
    /// NetMQPoller: only sockets with a request in flight are polled (each poll costs a syscall and a
    /// command check per socket; idle ones would only add to it), and callers wake the thread once per
    /// batch of requests rather than once per request.
    /// </summary>
    private sealed class Worker : IDisposable
    {
        private const int SweepMs = 20;
        private const int IdleWaitMs = 1000;
        private readonly ClientOptions options;
        private readonly int maxIdle;
        private readonly ILogger log;
        private readonly Thread thread;
        private readonly ConcurrentQueue<Work> incoming = new();
        private readonly PairSocket wakeReader = new();
        private readonly PairSocket wakeWriter = new();
        private readonly Lock wakeLock = new();
        private readonly NetMQSelector selector = new();
        private readonly Dictionary<NetMQSocket, Conn> inflight = [];
        private readonly Dictionary<Socket, Conn> handles = [];
        private readonly Stack<Conn> idle = new();
        private readonly List<Conn> expired = [];
        private readonly List<Socket> readable = [];
        private readonly List<Conn> ready = [];
        private NetMQSelector.Item[] items = [];
        private NetMQPoller? poller;
        private bool itemsDirty = true;
        private int wakePending;
        private int sweeps;
        private int disposed;
        private int failRequests;
        private int failSeen;
        private int openSockets;
        private volatile bool stopped;

        public Worker(ClientOptions options, int maxIdle, int index, ILogger log)
        {
            this.options = options;
            this.maxIdle = maxIdle;
            this.log = log;
            var address = $"inproc://salt-req-wake-{Guid.NewGuid():N}";
            wakeReader.Bind(address);
            wakeWriter.Connect(address);
            thread = new Thread(Run) { Name = $"salt-req-{index}", IsBackground = true };
            thread.Start();
        }

        public int OpenSockets => Volatile.Read(ref openSockets);

        /// <summary>Asks the thread to fail what is in flight now (any thread).</summary>
        public void FailInFlight()
        {
            Interlocked.Increment(ref failRequests);
            if (Volatile.Read(ref disposed) == 0)
            {
                lock (wakeLock)
                {
                    if (Volatile.Read(ref disposed) == 0)
                    {
                        wakeWriter.TrySendFrameEmpty();
                    }
                }
            }
        }

        public void Enqueue(Work work)
        {
            if (stopped)
            {
                work.Reply.TrySetException(new ObjectDisposedException(nameof(ZeromqTransport)));
                return;
            }

            incoming.Enqueue(work);
            Wake();
            if (stopped)
            {
                // Stopped meanwhile: nobody may drain the queue any more.
                FailQueued();
            }
        }

        private void FailQueued()
        {
            while (incoming.TryDequeue(out var w))
            {
                w.Reply.TrySetException(new ObjectDisposedException(nameof(ZeromqTransport)));
            }
        }

        /// <summary>Wakes the thread unless a wake is already on its way (it drains the whole queue on each).</summary>
        private void Wake()
        {
            if (Interlocked.Exchange(ref wakePending, 1) == 0)
            {
                lock (wakeLock)
                {
                    if (Volatile.Read(ref disposed) == 0)
                    {
                        wakeWriter.TrySendFrameEmpty();
                    }
                }
            }
        }

        private void Run()
        {
            if (options.RequestPoller == "netmq")
            {
                RunPoller();
                return;
            }

            var wakeItem = new NetMQSelector.Item(wakeReader, PollEvents.PollIn);
            var wakeHandle = MailboxHandle.Of(wakeReader);
            var nextSweep = Environment.TickCount64 + SweepMs;
            try
            {
                while (!stopped)
                {
                    // Nothing in flight: nothing can expire, so sleep long (few idle wake-ups; a request wakes us).
                    var wait = inflight.Count == 0 ? IdleWaitMs : Math.Max(0, nextSweep - Environment.TickCount64);
                    bool woken;
                    if (wakeHandle is not null)
                    {
                        woken = PollHandles(wakeHandle, wait);
                    }
                    else
                    {
                        woken = PollSelector(wakeItem, wait);
                    }

                    foreach (var c in ready)
                    {
                        OnReceiveReady(c.Socket);
                    }

                    ready.Clear();
                    if (Volatile.Read(ref failRequests) is var fail && fail != failSeen)
                    {
                        failSeen = fail;
                        FailAll();
                        nextSweep = Environment.TickCount64;
                    }

                    if (woken)
                    {
                        while (wakeReader.TrySkipFrame())
                        {
                        }

                        // Cleared before draining: a request queued from here on sends a new wake.
                        Volatile.Write(ref wakePending, 0);
                        while (!stopped && incoming.TryDequeue(out var w))
                        {
                            Start(w);
                        }
                    }

                    if (Environment.TickCount64 >= nextSweep)
                    {
                        if (wakeHandle is not null)
                        {
                            // Safety net for the handle poll: take queued requests and ask every in-flight socket
                            // itself, as NetMQ's selector does on every poll. (A wake still on its way then finds nothing.)
                            Volatile.Write(ref wakePending, 0);
                            while (!stopped && incoming.TryDequeue(out var w))
                            {
                                Start(w);
                            }

                            foreach (var c in inflight.Values)
                            {
                                if (c.Socket.HasIn)
                                {
                                    ready.Add(c);
                                }
                            }

                            foreach (var c in ready)
                            {
                                OnReceiveReady(c.Socket);
                            }

                            ready.Clear();
                        }

                        SweepExpired();
                        nextSweep = Environment.TickCount64 + SweepMs;
                    }
                }
            }
            catch (TerminatingException)
            {
                // the NetMQ context is going away
            }
            finally
            {
                Close();
            }
        }

        /// <summary>
        /// The same worker on a NetMQPoller (<c>request_poller: netmq</c>), as the embedded master's server runs: every
        /// open socket, idle or not, stays in the poller, and a timer runs the sweep. Selectable for the bench.
        /// </summary>
        private void RunPoller()
        {
            var timer = new NetMQTimer(SweepMs);
            poller = [wakeReader, timer];
            wakeReader.ReceiveReady += (_, _) =>
            {
                while (wakeReader.TrySkipFrame())
                {
                }

                Volatile.Write(ref wakePending, 0);
                if (Volatile.Read(ref failRequests) is var fail && fail != failSeen)
                {
                    failSeen = fail;
                    FailAll();
                }

                while (!stopped && incoming.TryDequeue(out var w))
                {
                    Start(w);
                }

                if (stopped)
                {
                    poller.StopAsync();
                }
            };
            timer.Elapsed += (_, _) => SweepExpired();
            try
            {
                poller.Run();
            }
            catch (TerminatingException)
            {
                // the NetMQ context is going away
            }
            finally
            {
                var p = poller;
                poller = null;
                foreach (var c in inflight.Values.Concat(idle))
                {
                    p.Remove(c.Socket);
                }

                p.Remove(wakeReader);
                p.Remove(timer);
                p.Dispose();
                Close();
            }
        }

        /// <summary>
        /// One poll(2) over the mailbox handles of the wake socket and the in-flight sockets. A handle turns
        /// readable when commands reach its socket (a reply arriving is one); every receive drains them, so the
        /// next reply signals again. NetMQ's selector also asks each socket for its state on every pass (one more
        /// syscall per socket per pass); for speed we only ask the sockets whose handle is readable.
        /// </summary>
        private bool PollHandles(Socket wakeHandle, long waitMs)
        {
            readable.Clear();
            readable.Add(wakeHandle);
            foreach (var c in inflight.Values)
            {
                readable.Add(c.Handle!);
            }

            Socket.Select(readable, null, null, (int)Math.Min(waitMs * 1000, int.MaxValue));
            var woken = false;
            foreach (var h in readable)
            {
                if (ReferenceEquals(h, wakeHandle))
                {
                    woken = true;
                }
                else if (handles.TryGetValue(h, out var c) && c.Work is not null)
                {
                    ready.Add(c);
                }
            }

            return woken;
        }

        /// <summary>The portable form: NetMQ's selector (used should the mailbox handles be unavailable).</summary>
        private bool PollSelector(NetMQSelector.Item wakeItem, long waitMs)
        {
            if (itemsDirty)
            {
                RebuildItems(wakeItem);
            }

            selector.Select(items, items.Length, waitMs);
            for (var i = 1; i < items.Length; i++)
            {
                if (items[i].ResultEvent.HasIn())
                {
                    ready.Add(inflight[items[i].Socket!]);
                }
            }

            return wakeItem.ResultEvent.HasIn();
        }

        private void RebuildItems(NetMQSelector.Item wakeItem)
        {
            if (items.Length != inflight.Count + 1)
            {
                items = new NetMQSelector.Item[inflight.Count + 1];
            }

            items[0] = wakeItem;
            var i = 1;
            foreach (var c in inflight.Values)
            {
                items[i++] = c.Item;
            }

            itemsDirty = false;
        }

        private void Start(Work w)
        {
            if (w.Reply.Task.IsCompleted)
            {
                return;
            }

            // A retry always gets a brand-new socket: a REQ socket that sent without a reply is unusable.
            var conn = w.Attempt == 0 && idle.Count > 0 ? idle.Pop() : Create();
            w.Attempt++;
            w.Deadline = Stopwatch.GetTimestamp() + (long)(w.Timeout.TotalSeconds * Stopwatch.Frequency);

            // Events from before this request (a drop while the socket sat idle) are not its own.
            conn.ReadMonitor();
            w.Reached = conn.Connected;
            conn.Work = w;
            inflight[conn.Socket] = conn;
            itemsDirty = true;
            if (!conn.Socket.TrySendFrame(TimeSpan.Zero, w.Payload))
            {
                // Cannot even queue the message: let the sweep treat it as a timed-out attempt.
                w.Deadline = 0;
                return;
            }

            // Asking the socket once after the send is what makes its mailbox handle signal the reply: a pooled
            // socket's reply pipe is only armed again by a read that finds it empty (the reply's last frame
            // does not), and without it the reply would wait for the sweep.
            if (conn.Socket.HasIn)
            {
                OnReceiveReady(conn.Socket);
            }
        }

        private Conn Create()
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

            // The monitor's reader is connected before the socket, so that no event is missed.
            var endpoint = $"inproc://salt-req-monitor-{Guid.NewGuid():N}";
            s.Monitor(endpoint, SocketEvents.Connected | SocketEvents.Disconnected);
            var monitor = new PairSocket();
            monitor.Options.Linger = TimeSpan.Zero;
            monitor.Connect(endpoint);
            s.Connect(options.Master.MasterUri);
            Interlocked.Increment(ref openSockets);
            var conn = new Conn(s, monitor);
            if (poller is not null)
            {
                s.ReceiveReady += (_, e) => OnReceiveReady(e.Socket);
                poller.Add(s);
            }

            if (conn.Handle is not null)
            {
                handles[conn.Handle] = conn;
            }

            return conn;
        }

        private void Discard(Conn c)
        {
            poller?.Remove(c.Socket);
            if (c.Handle is not null)
            {
                handles.Remove(c.Handle);
            }

            Close(c);
        }

        private void Close(Conn c)
        {
            c.Socket.Dispose();
            c.ReadMonitor();
            c.Monitor.Dispose();
            Interlocked.Decrement(ref openSockets);
        }

        /// <summary>The master went away: every request in flight fails now (the sweep then throws their sockets away).</summary>
        private void FailAll()
        {
            var failed = 0;
            foreach (var c in inflight.Values)
            {
                if (c.Work!.Reply.TrySetException(new MasterGoneException()))
                {
                    failed++;
                }
            }

            if (failed > 0)
            {
                LogDropped(log, failed);
            }
        }

        private void OnReceiveReady(NetMQSocket socket)
        {
            // Salt replies with exactly one frame; take the last one should a peer send more.
            if (!socket.TryReceiveFrameBytes(TimeSpan.Zero, out var frame, out var more))
            {
                return;
            }

            while (more && socket.TryReceiveFrameBytes(TimeSpan.Zero, out var next, out more))
            {
                frame = next;
            }

            if (!inflight.Remove(socket, out var conn))
            {
                return;
            }

            itemsDirty = true;
            var w = conn.Work!;
            conn.Work = null;
            w.Reply.TrySetResult(frame);
            if (idle.Count < maxIdle)
            {
                idle.Push(conn);
            }
            else
            {
                Discard(conn);
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
                foreach (var c in inflight.Values)
                {
                    if (c.Work!.MasterFileSeen)
                    {
                        c.Work.Reply.TrySetException(new MasterGoneException());
                    }
                }
            }

            // Deliberate difference: Salt's REQ socket waits out its timeout when the master dies with the
            // request (the reply can never come). The monitor reports the connection dropped: fail at once (503).
            // Read every 5th sweep (100 ms), and always before an attempt is judged timed out.
            var now = Stopwatch.GetTimestamp();
            var readAll = sweeps % 5 == 0;
            var dropped = 0;
            foreach (var c in inflight.Values)
            {
                if (readAll || now >= c.Work!.Deadline)
                {
                    c.ReadMonitor();
                    if (c.Dropped && c.Work!.Reply.TrySetException(new MasterGoneException()))
                    {
                        dropped++;
                    }
                }

                if (c.Work!.Reply.Task.IsCompleted || now >= c.Work.Deadline)
                {
                    expired.Add(c);
                }
            }

            if (dropped > 0)
            {
                LogDropped(log, dropped);
            }

            foreach (var c in expired)
            {
                inflight.Remove(c.Socket);
                itemsDirty = true;
                Discard(c);
                var w = c.Work;
                if (w is null || w.Reply.Task.IsCompleted)
                {
                    continue;
                }

                // Deliberate difference: Salt sends the request again (3 tries), so a publish, a runner or a wheel
                // call that reached a master too slow to answer in time runs twice. Only a request whose socket
                // never had a connection (it cannot have reached the master) is sent again.
                if (w.Attempt < w.Tries && !w.Reached)
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

        /// <summary>On the worker thread, when it stops: fails what is left and closes every socket.</summary>
        private void Close()
        {
            stopped = true;
            foreach (var c in inflight.Values)
            {
                c.Work?.Reply.TrySetException(new ObjectDisposedException(nameof(ZeromqTransport)));
                Close(c);
            }

            FailQueued();
            foreach (var c in idle)
            {
                Close(c);
            }

            inflight.Clear();
            idle.Clear();
            wakeReader.Dispose();
        }

        public void Dispose()
        {
            stopped = true;
            lock (wakeLock)
            {
                if (Interlocked.Exchange(ref disposed, 1) != 0)
                {
                    return;
                }

                wakeWriter.TrySendFrameEmpty();
            }

            if (!thread.Join(TimeSpan.FromSeconds(10)))
            {
                log.LogWarning("a request worker did not stop in time");
            }

            // A request queued while the thread stopped.
            FailQueued();
            lock (wakeLock)
            {
                wakeWriter.Dispose();
            }
        }

        /// <summary>A pooled REQ socket, its monitor, its poll item (made once, not per request) and the request it carries.</summary>
        private sealed class Conn(RequestSocket socket, PairSocket monitor)
        {
            public RequestSocket Socket { get; } = socket;

            /// <summary>The reader of the socket's monitor (connections made and dropped).</summary>
            public PairSocket Monitor { get; } = monitor;

            /// <summary>The socket has a connection, as of the last <see cref="ReadMonitor"/>.</summary>
            public bool Connected { get; private set; }

            /// <summary>The connection dropped while <see cref="Work"/> was on this socket: its reply can never come.</summary>
            public bool Dropped { get; private set; }

            public NetMQSelector.Item Item { get; } = new(socket, PollEvents.PollIn);

            /// <summary>The socket's mailbox handle (ZeroMQ's ZMQ_FD), when available.</summary>
            public Socket? Handle { get; } = MailboxHandle.Of(socket);

            public Work? Work
            {
                get;
                set
                {
                    field = value;
                    Dropped = false;
                }
            }

            /// <summary>Takes the monitor's pending events (on the owning thread).</summary>
            public void ReadMonitor()
            {
                while (Monitor.TryReceiveFrameBytes(TimeSpan.Zero, out var frame))
                {
                    switch (SocketMonitorEvent.Read(frame))
                    {
                        case SocketEvents.Connected:
                            Connected = true;
                            if (Work is { } w)
                            {
                                w.Reached = true;
                            }

                            break;
                        case SocketEvents.Disconnected:
                            Connected = false;
                            Dropped = Work is not null;
                            break;
                    }
                }
            }
        }
    }
}

/// <summary>
/// A NetMQ socket's mailbox handle: what ZeroMQ exposes as ZMQ_FD and NetMQ's own selector polls. NetMQ
/// keeps it internal; read by reflection, and null (the portable path is used) should that ever fail.
/// </summary>
internal static class MailboxHandle
{
    private static readonly PropertyInfo? SocketHandle = typeof(NetMQSocket).GetProperty("SocketHandle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);

    public static Socket? Of(NetMQSocket socket)
    {
        try
        {
            var core = SocketHandle?.GetValue(socket);
            return core?.GetType().GetProperty("Handle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(core) as Socket;
        }
        catch (Exception e) when (e is TargetInvocationException or MemberAccessException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>
/// One event of a NetMQ socket monitor, as NetMQ's MonitorEvent writes it: the event (int32, little endian), the
/// address (a length byte and its bytes), a flag byte, then an int32 (flag 1) or a GC handle of the connection's
/// socket (flag 2) that the reader must free (NetMQ's own reader is internal).
/// </summary>
internal static class SocketMonitorEvent
{
    public static SocketEvents Read(byte[] frame)
    {
        if (frame.Length < 6)
        {
            return 0;
        }

        var evt = (SocketEvents)System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(frame);
        var pos = 5 + frame[4];
        if (pos < frame.Length && frame[pos] == 2 && frame.Length >= pos + 1 + IntPtr.Size)
        {
            var ptr = IntPtr.Size == 8
                ? new IntPtr(System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(pos + 1)))
                : new IntPtr(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(pos + 1)));
            if (ptr != IntPtr.Zero)
            {
                System.Runtime.InteropServices.GCHandle.FromIntPtr(ptr).Free();
            }
        }

        return evt;
    }
}

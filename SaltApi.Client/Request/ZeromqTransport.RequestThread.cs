using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using SaltApi.Client.Config;

namespace SaltApi.Client.Request;

internal sealed partial class ZeromqTransport
{
    /// <summary>
    /// What both request workers (<see cref="Worker"/>, <see cref="DealerWorker"/>) share: a thread that owns their
    /// NetMQ sockets, the lock-free queue by which requests reach it, and its wake-up (one per batch of requests).
    /// </summary>
    private abstract class RequestThread : IWorker
    {
        protected const int SweepMs = 20;
        protected const int IdleWaitMs = 1000;
        private readonly Thread thread;
        private readonly ConcurrentQueue<PendingRequest> incoming = new();
        private readonly PairSocket wakeWriter = new();
        private readonly Lock wakeLock = new();
        private int wakePending;
        private int disposed;
        private int failRequests;
        private int failSeen;
        private volatile bool stopped;

        protected RequestThread(ZeromqTransport transport, string name)
        {
            Transport = transport;
            var address = $"inproc://{name}-wake-{Guid.NewGuid():N}";
            WakeReader.Bind(address);
            wakeWriter.Connect(address);
            thread = new Thread(Run) { Name = name, IsBackground = true };
        }

        public abstract int OpenSockets { get; }

        protected ZeromqTransport Transport { get; }

        protected ClientOptions Options => Transport.options;

        protected ILogger Log => Transport.log;

        /// <summary>The thread's end of the wake-up: readable when requests (or a fail request) wait.</summary>
        protected PairSocket WakeReader { get; } = new();

        /// <summary>Set when the thread stops or the worker is disposed: no request is taken after it.</summary>
        protected bool Stopped
        {
            get => stopped;
            set => stopped = value;
        }

        protected bool IsDisposed => Volatile.Read(ref disposed) != 0;

        /// <summary>Asks the thread to fail what is in flight now (any thread).</summary>
        public void FailInFlight()
        {
            Interlocked.Increment(ref failRequests);
            Signal();
        }

        public void Enqueue(PendingRequest work)
        {
            if (stopped)
            {
                work.Reply.TrySetException(new ObjectDisposedException(nameof(ZeromqTransport)));
                return;
            }

            incoming.Enqueue(work);
            // Wakes the thread unless a wake is already on its way (it drains the whole queue on each).
            if (Interlocked.Exchange(ref wakePending, 1) == 0)
            {
                Signal();
            }

            if (stopped)
            {
                // Stopped meanwhile: nobody may drain the queue any more.
                FailQueued();
            }
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
                Log.LogWarning("a request worker did not stop in time");
            }

            // A request queued while the thread stopped.
            FailQueued();
            lock (wakeLock)
            {
                wakeWriter.Dispose();
            }
        }

        /// <summary>What every request socket to the master gets: no linger, reconnects, Salt's tcp_keepalive options, IPv6.</summary>
        protected void ConfigureConnection(NetMQSocket s)
        {
            var options = Options;
            s.Options.Linger = TimeSpan.Zero;
            s.Options.ReconnectIntervalMax = RequestChannel.MaxReconnectInterval;
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
        }

        /// <summary>
        /// A reader of <paramref name="s"/>'s monitor (connections made and dropped), connected before <paramref name="s"/>
        /// is, so that no event is missed.
        /// </summary>
        protected static PairSocket ConnectMonitor(NetMQSocket s, string name)
        {
            var address = $"inproc://{name}-monitor-{Guid.NewGuid():N}";
            s.Monitor(address, SocketEvents.Connected | SocketEvents.Disconnected);
            var monitor = new PairSocket();
            monitor.Options.Linger = TimeSpan.Zero;
            monitor.Connect(address);
            return monitor;
        }

        /// <summary>The thread's loop; it owns every socket of the worker.</summary>
        protected abstract void Run();

        /// <summary>Starts the thread (at the end of the worker's constructor).</summary>
        protected void StartThread() => thread.Start();

        /// <summary>Takes the next queued request (on the thread).</summary>
        protected bool TryTake(out PendingRequest work) => incoming.TryDequeue(out work!);

        /// <summary>On the thread: reads the wake-ups and re-arms them; a request queued from here on sends a new one.</summary>
        protected void TakeWake()
        {
            while (WakeReader.TrySkipFrame())
            {
            }

            ClearWakePending();
        }

        /// <summary>On the thread, before draining the queue: a request queued from here on sends a new wake-up.</summary>
        protected void ClearWakePending() => Volatile.Write(ref wakePending, 0);

        /// <summary>On the thread: whether <see cref="FailInFlight"/> was called since the last time it asked.</summary>
        protected bool TakeFailRequest()
        {
            var fail = Volatile.Read(ref failRequests);
            if (fail == failSeen)
            {
                return false;
            }

            failSeen = fail;
            return true;
        }

        protected void FailQueued()
        {
            while (incoming.TryDequeue(out var w))
            {
                w.Reply.TrySetException(new ObjectDisposedException(nameof(ZeromqTransport)));
            }
        }

        private void Signal()
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
}

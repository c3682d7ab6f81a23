using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using SaltApi.Client.Config;
using SaltApi.Protocol.Channel;

namespace SaltApi.Client.Request;

internal sealed partial class ZeromqTransport
{
    /// <summary>
    /// <c>request_socket: dealer</c>: one thread and one DEALER socket carrying many requests at once. A request goes
    /// out as <c>[id][empty][payload]</c> (the id: 4 bytes, never reused while its request waits); Salt's master
    /// (a ROUTER, a zmq QUEUE device, DEALER→REP workers: salt/transport/zeromq.py RequestServer.zmq_device and
    /// post_fork) answers <c>[id][empty][reply]</c>, because a REP socket echoes every frame before the empty one.
    /// Replies may come in any order (several workers); each goes to the request its id names, and one whose id no
    /// longer waits (timed out, cancelled) is dropped.
    /// </summary>
    /// <remarks>
    /// Deliberate difference from Salt's client (a REQ socket per attempt): one socket per thread, so there is no
    /// socket, monitor and pipe per request, and the pipes stay busy under load (fewer mailbox signals). The guarantees
    /// stay those of the REQ pool: the socket is ZMQ_IMMEDIATE (DelayAttachOnConnect), so a request with no connection
    /// to go to is not sent at all and waits (until its timeout times its tries) for one, while a request that was
    /// sent may have reached the master and is never sent again; a connection that drops fails every request sent on
    /// it at once (its monitor).
    /// </remarks>
    private sealed partial class DealerWorker : RequestThread
    {
        private const int FastRetryMs = 500;
        private const int MaxFrames = 34; // the envelope is ours (id, empty), the body one frame; more is not a reply
        private static readonly Stopwatch Clock = Stopwatch.StartNew();
        private readonly DealerSocket dealer = new();
        private readonly PairSocket monitor;
        private readonly Dictionary<uint, PendingRequest> pending = [];
        // Requests not sent yet (no connection, or the socket's high-water mark), oldest first.
        private readonly List<PendingRequest> unsent = [];
        private readonly List<System.Net.Sockets.Socket> readable = [];
        private readonly int maxInFlight;
        private uint nextId;
        private int sweeps;
        private bool connected;
        private long connectedAt;
        private bool fellBack;

        public DealerWorker(ZeromqTransport transport, int index)
            : base(transport, $"salt-dealer-{index}")
        {
            // request_sockets bounds the requests in flight over every thread (RequestChannel); one socket may carry them all.
            maxInFlight = Options.RequestSockets;
            ConfigureConnection(dealer);
            // ZMQ_IMMEDIATE: with no connection a send fails (the request waits here) instead of queueing for a
            // connection that may come later, when the request would have to be counted as "may have reached".
            dealer.Options.DelayAttachOnConnect = true;
            // Bounded: requests queued on the pipe, replies waiting to be read, and a reply's size (as the TCP transport).
            dealer.Options.SendHighWatermark = Math.Max(16, Options.RequestSockets);
            dealer.Options.ReceiveHighWatermark = Math.Max(16, Options.RequestSockets);
            dealer.Options.MaxMsgSize = TcpTransport.MaxReplyBytes;
            monitor = ConnectMonitor(dealer, "salt-dealer");
            dealer.Connect(Options.Master.MasterUri);
            StartThread();
        }

        /// <summary>The DEALER and its monitor: two, whatever the load.</summary>
        public override int OpenSockets => IsDisposed ? 0 : 2;

        protected override void Run()
        {
            var wakeHandle = MailboxHandle.Of(WakeReader);
            var dealerHandle = MailboxHandle.Of(dealer);
            var monitorHandle = MailboxHandle.Of(monitor);
            var handles = wakeHandle is not null && dealerHandle is not null && monitorHandle is not null;
            var items = new[]
            {
                new NetMQSelector.Item(WakeReader, PollEvents.PollIn),
                new NetMQSelector.Item(dealer, PollEvents.PollIn),
                new NetMQSelector.Item(monitor, PollEvents.PollIn),
            };
            var selector = new NetMQSelector();
            var nextSweep = Clock.ElapsedMilliseconds + SweepMs;
            try
            {
                while (!Stopped)
                {
                    var now = Clock.ElapsedMilliseconds;
                    // Nothing waiting: nothing can expire, so sleep long (a request wakes us). Requests not sent for want
                    // of a connection are tried again every millisecond for a while after one is made (its handshake has
                    // no event), else at each sweep.
                    long wait = pending.Count == 0 && unsent.Count == 0 ? IdleWaitMs : Math.Max(0, nextSweep - now);
                    if (unsent.Count > 0 && connected && now - connectedAt < FastRetryMs)
                    {
                        wait = Math.Min(wait, 1);
                    }

                    bool woken;
                    if (handles)
                    {
                        readable.Clear();
                        readable.Add(wakeHandle!);
                        readable.Add(dealerHandle!);
                        readable.Add(monitorHandle!);
                        System.Net.Sockets.Socket.Select(readable, null, null, (int)Math.Min(wait * 1000, int.MaxValue));
                        woken = readable.Contains(wakeHandle!);
                    }
                    else
                    {
                        selector.Select(items, items.Length, wait);
                        woken = items[0].ResultEvent.HasIn();
                    }

                    // Connection news first: a drop fails what was sent before it, not what is sent after.
                    ReadMonitor();
                    Receive();
                    if (TakeFailRequest())
                    {
                        FailSent();
                    }

                    if (woken)
                    {
                        TakeWake();
                    }

                    // Also taken at each sweep, a safety net should a wake be missed.
                    if (woken || Clock.ElapsedMilliseconds >= nextSweep)
                    {
                        Drain();
                    }

                    if (unsent.Count > 0)
                    {
                        SendUnsent();
                    }

                    if (Clock.ElapsedMilliseconds >= nextSweep)
                    {
                        Receive();
                        Sweep();
                        nextSweep = Clock.ElapsedMilliseconds + SweepMs;
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

        /// <summary>Takes the queued requests and sends them; then reads what came meanwhile.</summary>
        private void Drain()
        {
            var sent = false;
            while (!Stopped && TryTake(out var w))
            {
                if (w.Reply.Task.IsCompleted)
                {
                    continue;
                }

                if (fellBack)
                {
                    Transport.FallBackToReq(w);
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                w.LastDeadline = now + (long)(w.Timeout.TotalSeconds * Math.Max(1, w.Tries) * Stopwatch.Frequency);
                if (unsent.Count > 0 || !TrySend(w))
                {
                    unsent.Add(w);
                }
                else
                {
                    sent = true;
                }
            }

            // A send also takes the socket's pending commands, among them the signal of a reply that arrived: read now,
            // or that reply would wait for the sweep (the mailbox handle no longer shows it).
            if (sent)
            {
                Receive();
            }
        }

        /// <summary>Sends the requests that found no connection, in order, while the socket takes them.</summary>
        private void SendUnsent()
        {
            var n = 0;
            while (n < unsent.Count && TrySend(unsent[n]))
            {
                n++;
            }

            if (n > 0)
            {
                unsent.RemoveRange(0, n);
                Receive();
            }
        }

        /// <summary>Sends <c>[id][empty][payload]</c>; false when it was not sent at all (no connection, or the socket is full).</summary>
        private bool TrySend(PendingRequest w)
        {
            if (w.Reply.Task.IsCompleted || (w.Attempt == 0 && w.Stale(Transport.Drops)))
            {
                return true; // cancelled or failed while waiting, or made before a connection dropped: nothing to send
            }

            if (pending.Count >= maxInFlight)
            {
                return false;
            }

            var id = NextId();
            var idFrame = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(idFrame, id);
            if (!dealer.TrySendFrame(TimeSpan.Zero, idFrame, more: true))
            {
                return false;
            }

            // ZeroMQ takes a message's parts all or none once the first is taken: from here the request may reach the master.
            w.Id = id;
            w.Reached = true;
            w.Attempt++;
            // Its reply is waited for as long as Salt's client waits over all its tries (LastDeadline), and at least one
            // attempt's time from now.
            w.Deadline = Math.Max(Stopwatch.GetTimestamp() + PendingRequest.Ticks(w.Timeout), w.LastDeadline);
            pending[id] = w;
            dealer.TrySendFrameEmpty(more: true);
            dealer.TrySendFrame(TimeSpan.Zero, w.Payload);
            return true;
        }

        /// <summary>An id no request waiting holds (they wrap after 2^32; one still waiting is skipped).</summary>
        private uint NextId()
        {
            do
            {
                nextId++;
            }
            while (pending.ContainsKey(nextId));
            return nextId;
        }

        private void ReadMonitor()
        {
            while (monitor.TryReceiveFrameBytes(TimeSpan.Zero, out var frame))
            {
                switch (SocketMonitorEvent.Read(frame))
                {
                    case SocketEvents.Connected:
                        connected = true;
                        connectedAt = Clock.ElapsedMilliseconds;
                        break;
                    case SocketEvents.Disconnected:
                        connected = false;
                        Transport.OnDropped();
                        // Deliberate difference: Salt's REQ socket waits out its timeout when the master dies with the
                        // request (the reply can never come): fail at once (503). Requests not sent yet keep waiting.
                        FailSent();
                        break;
                }
            }
        }

        /// <summary>Every request sent and waiting fails (the master went away with it); late replies to them are dropped.</summary>
        private void FailSent()
        {
            var failed = PendingRequest.FailAll(pending.Values, static () => new MasterGoneException());
            pending.Clear();
            if (failed > 0)
            {
                LogDropped(Log, failed);
            }
        }

        private void Sweep()
        {
            var now = Stopwatch.GetTimestamp();

            // Deliberate difference (as the REQ pool): when the master's "running" file, present when the request was
            // made, is gone, no reply can come: fail at once (503).
            if (pending.Count > 0 && ++sweeps % 10 == 0 && Options.MasterRunningFile is { } file && !File.Exists(file))
            {
                foreach (var w in pending.Values)
                {
                    if (w.MasterFileSeen)
                    {
                        w.Reply.TrySetException(new MasterGoneException());
                    }
                }
            }

            foreach (var (id, w) in pending)
            {
                if (w.Reply.Task.IsCompleted || now >= w.Deadline)
                {
                    // Sent: it may have reached the master, so it is never sent again (as the REQ pool); its deadline
                    // was every attempt's time, as long as Salt's client would have waited.
                    w.Reply.TrySetException(new RequestTimeoutException());
                    pending.Remove(id); // allowed while enumerating a Dictionary since .NET Core 3.0
                }
            }

            // Never sent (no connection all along): a timeout after every attempt's worth of time, or sooner a 503 when the
            // socket had no connection to send it on for NoConnectionWait (a master stopped or restarting leaves its files,
            // and nothing listens): it cannot have reached the master, and is not sent later.
            var notSent = 0;
            var noConnection = pending.Count < maxInFlight ? now - PendingRequest.NoConnectionTicks : long.MinValue;
            unsent.RemoveAll(w => w.Reply.Task.IsCompleted
                || (now >= w.LastDeadline && w.Reply.TrySetException(new RequestTimeoutException()))
                || (w.Queued <= noConnection && w.Reply.TrySetException(new MasterGoneException()) && ++notSent > 0));
            if (notSent > 0)
            {
                LogNotSent(Log, notSent);
            }
        }

        /// <summary>On the worker thread, when it stops: fails what is left and closes the sockets.</summary>
        private void Close()
        {
            Stopped = true;
            PendingRequest.FailAll(pending.Values.Concat(unsent), static () => new ObjectDisposedException(nameof(ZeromqTransport)));
            pending.Clear();
            unsent.Clear();
            FailQueued();
            dealer.Dispose();
            ReadMonitorQuietly();
            monitor.Dispose();
            WakeReader.Dispose();
        }

        // Frees the GC handles the monitor's last events carry.
        private void ReadMonitorQuietly()
        {
            while (monitor.TryReceiveFrameBytes(TimeSpan.Zero, out var frame))
            {
                SocketMonitorEvent.Read(frame);
            }
        }
    }
}

using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using SaltApi.Client.Config;

namespace SaltApi.Client.Request;

internal sealed partial class ZeromqTransport
{
    /// <summary>
    /// <c>request_socket: req</c>: one thread and the REQ sockets it owns. For speed it runs its own poll loop rather than a
    /// NetMQPoller: only sockets with a request in flight are polled (each poll costs a syscall and a
    /// command check per socket; idle ones would only add to it), and callers wake the thread once per
    /// batch of requests rather than once per request.
    /// </summary>
    private sealed partial class Worker : RequestThread
    {
        private const int KeptIdle = 2; // idle sockets never trimmed, per thread
        private readonly int maxIdle;
        private readonly long idleTicks;
        private readonly NetMQSelector selector = new();
        private readonly Dictionary<NetMQSocket, Conn> inflight = [];
        private readonly Dictionary<Socket, Conn> handles = [];
        // Idle sockets, the most recently used last: taken from the end, trimmed from the start.
        private readonly List<Conn> idle = [];
        private readonly List<Conn> expired = [];
        private readonly List<Socket> readable = [];
        private readonly List<Conn> ready = [];
        private NetMQSelector.Item[] items = [];
        private NetMQPoller? poller;
        private bool itemsDirty = true;
        private int sweeps;
        private int openSockets;

        public Worker(ZeromqTransport transport, int maxIdle, int index)
            : base(transport, $"salt-req-{index}")
        {
            this.maxIdle = maxIdle;
            idleTicks = (long)(Options.RequestSocketIdle * System.Diagnostics.Stopwatch.Frequency);
            StartThread();
        }

        public override int OpenSockets => Volatile.Read(ref openSockets);

        protected override void Run()
        {
            if (Options.RequestPoller == "netmq")
            {
                RunPoller();
                return;
            }

            var wakeItem = new NetMQSelector.Item(WakeReader, PollEvents.PollIn);
            var wakeHandle = MailboxHandle.Of(WakeReader);
            var nextSweep = Environment.TickCount64 + SweepMs;
            try
            {
                while (!Stopped)
                {
                    // Nothing in flight: nothing can expire, so sleep long (few idle wake-ups; a request wakes us).
                    var wait = inflight.Count == 0 ? IdleWaitMs : Math.Max(0, nextSweep - Environment.TickCount64);
                    var woken = wakeHandle is not null ? PollHandles(wakeHandle, wait) : PollSelector(wakeItem, wait);
                    ReceiveReady();
                    if (TakeFailRequest())
                    {
                        FailAll();
                        nextSweep = Environment.TickCount64;
                    }

                    if (woken)
                    {
                        TakeWake();
                        StartQueued();
                    }

                    if (Environment.TickCount64 >= nextSweep)
                    {
                        if (wakeHandle is not null)
                        {
                            // Safety net for the handle poll: take queued requests and ask every in-flight socket
                            // itself, as NetMQ's selector does on every poll. (A wake still on its way then finds nothing.)
                            ClearWakePending();
                            StartQueued();
                            foreach (var c in inflight.Values)
                            {
                                if (c.Socket.HasIn)
                                {
                                    ready.Add(c);
                                }
                            }

                            ReceiveReady();
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
            poller = [WakeReader, timer];
            WakeReader.ReceiveReady += (_, _) =>
            {
                TakeWake();
                if (TakeFailRequest())
                {
                    FailAll();
                }

                StartQueued();
                if (Stopped)
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

                p.Remove(WakeReader);
                p.Remove(timer);
                p.Dispose();
                Close();
            }
        }

        private void StartQueued()
        {
            while (!Stopped && TryTake(out var w))
            {
                Start(w);
            }
        }

        private void ReceiveReady()
        {
            foreach (var c in ready)
            {
                OnReceiveReady(c.Socket);
            }

            ready.Clear();
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
    }
}

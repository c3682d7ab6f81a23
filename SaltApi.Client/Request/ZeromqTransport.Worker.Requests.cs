using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace SaltApi.Client.Request;

internal sealed partial class ZeromqTransport
{
    private sealed partial class Worker
    {
        private void Start(PendingRequest w)
        {
            // Made before a connection dropped (the master may be back, not yet answering): not sent, as over the DEALER.
            if (w.Reply.Task.IsCompleted || w.Stale(Transport.Drops))
            {
                return;
            }

            // A retry always gets a brand-new socket: a REQ socket that sent without a reply is unusable.
            Conn conn;
            if (w.Attempt == 0 && idle.Count > 0)
            {
                conn = idle[^1];
                idle.RemoveAt(idle.Count - 1);
            }
            else
            {
                conn = Create();
            }

            // Events from before this request (a drop while the socket sat idle) are not its own, but count as a drop.
            conn.ReadMonitor();
            if (w.Stale(Transport.Drops))
            {
                conn.IdleSince = Stopwatch.GetTimestamp();
                idle.Add(conn);
                return;
            }

            w.Attempt++;
            w.Deadline = Stopwatch.GetTimestamp() + PendingRequest.Ticks(w.Timeout);
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
            ConfigureConnection(s);
            var monitor = ConnectMonitor(s, "salt-req");
            s.Connect(Options.Master.MasterUri);
            Interlocked.Increment(ref openSockets);
            var conn = new Conn(s, monitor, Transport.OnDropped);
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
            c.ReadMonitor(closing: true);
            c.Monitor.Dispose();
            Interlocked.Decrement(ref openSockets);
        }

        /// <summary>The master went away: every request in flight fails now (the sweep then throws their sockets away).</summary>
        private void FailAll()
        {
            var failed = PendingRequest.FailAll(inflight.Values.Select(c => c.Work!), static () => new MasterGoneException());
            if (failed > 0)
            {
                LogDropped(Log, failed);
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
                conn.IdleSince = Stopwatch.GetTimestamp();
                idle.Add(conn);
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
            if (inflight.Count > 0 && ++sweeps % 10 == 0 && Options.MasterRunningFile is { } file && !File.Exists(file))
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
            var notSent = 0;
            foreach (var c in inflight.Values)
            {
                // Queued in a socket that has had no connection for NoConnectionWait (the master stopped or restarting):
                // a 503, and the socket is thrown away with the request, so that it is never sent later.
                var unsentTooLong = !c.Work!.Reached && now - c.Work.Queued >= PendingRequest.NoConnectionTicks;
                if (readAll || now >= c.Work!.Deadline || unsentTooLong)
                {
                    c.ReadMonitor();
                    if (c.Dropped && c.Work!.Reply.TrySetException(new MasterGoneException()))
                    {
                        dropped++;
                    }

                    if (unsentTooLong && !c.Work!.Reached && c.Work.Reply.TrySetException(new MasterGoneException()))
                    {
                        notSent++;
                    }
                }

                if (!c.Work!.Reply.Task.IsCompleted && now >= c.Work.Deadline && c.Work.Reached && now < c.Work.LastDeadline)
                {
                    // It may have reached the master: not sent again, its reply waited for on this socket for the rest
                    // of every attempt's time, as long as Salt's client would wait (a congested master answers late).
                    c.Work.Deadline = c.Work.LastDeadline;
                }

                if (c.Work!.Reply.Task.IsCompleted || now >= c.Work.Deadline)
                {
                    expired.Add(c);
                }
            }

            if (dropped > 0)
            {
                LogDropped(Log, dropped);
            }

            if (notSent > 0)
            {
                LogNotSent(Log, notSent);
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
                    LogRetry(Log, w.Attempt, w.Tries);
                    Start(w);
                }
                else
                {
                    w.Reply.TrySetException(new RequestTimeoutException());
                }
            }

            expired.Clear();
            TrimIdle();
        }

        /// <summary>
        /// Closes the sockets idle longer than <c>request_socket_idle</c>, beyond the few always kept: the pool grows
        /// to the peak of requests in flight, and each socket holds its NetMQ pipes (~100 KB here and on the master's
        /// side) for as long as it is open.
        /// </summary>
        private void TrimIdle()
        {
            var surplus = idle.Count - KeptIdle;
            if (surplus <= 0)
            {
                return;
            }

            var cutoff = Stopwatch.GetTimestamp() - idleTicks;
            var n = 0;
            while (n < surplus && idle[n].IdleSince <= cutoff)
            {
                Discard(idle[n]);
                n++;
            }

            if (n > 0)
            {
                idle.RemoveRange(0, n);
            }
        }

        /// <summary>On the worker thread, when it stops: fails what is left and closes every socket.</summary>
        private void Close()
        {
            Stopped = true;
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
            WakeReader.Dispose();
        }
    }
}

using System.Net.Sockets;
using NetMQ;
using NetMQ.Sockets;

namespace SaltApi.Client.Request;

internal sealed partial class ZeromqTransport
{
    private sealed partial class Worker
    {
        /// <summary>A pooled REQ socket, its monitor, its poll item (made once, not per request) and the request it carries.</summary>
        private sealed class Conn(RequestSocket socket, PairSocket monitor, Action dropped)
        {
            public RequestSocket Socket { get; } = socket;

            /// <summary>The reader of the socket's monitor (connections made and dropped).</summary>
            public PairSocket Monitor { get; } = monitor;

            /// <summary>When the socket was last put back in the idle pool (a Stopwatch timestamp).</summary>
            public long IdleSince { get; set; }

            /// <summary>The socket has a connection, as of the last <see cref="ReadMonitor"/>.</summary>
            public bool Connected { get; private set; }

            /// <summary>The connection dropped while <see cref="Work"/> was on this socket: its reply can never come.</summary>
            public bool Dropped { get; private set; }

            public NetMQSelector.Item Item { get; } = new(socket, PollEvents.PollIn);

            /// <summary>The socket's mailbox handle (ZeroMQ's ZMQ_FD), when available.</summary>
            public Socket? Handle { get; } = MailboxHandle.Of(socket);

            public PendingRequest? Work
            {
                get;
                set
                {
                    field = value;
                    Dropped = false;
                }
            }

            /// <summary>Takes the monitor's pending events (on the owning thread); a drop counts unless we closed the socket.</summary>
            public void ReadMonitor(bool closing = false)
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
                            if (!closing)
                            {
                                dropped();
                            }

                            Dropped = Work is not null;
                            break;
                    }
                }
            }
        }
    }
}

using System.Collections.Concurrent;
using NetMQ;
using NetMQ.Sockets;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Client.Tests.Support;

/// <summary>
/// A bare ROUTER socket on loopback, the socket type the master binds on ret_port: lets channel
/// tests hold, drop or answer requests over real ZeroMQ. Answers as the master's REP workers do: under the
/// request's whole envelope (every frame before the empty one: the connection's identity, and a DEALER's request id).
/// </summary>
internal sealed class RouterPeer : IDisposable
{
    private readonly RouterSocket router = new();
    private readonly NetMQPoller poller;
    private readonly Func<RouterPeer, Request, bool> onRequest;

    /// <param name="onRequest">Called per request; true answers it with its own envelope.</param>
    /// <param name="port">The port to bind (a master restarted on its port); 0 for a free one.</param>
    public RouterPeer(Func<RouterPeer, Request, bool> onRequest, int port = 0)
    {
        this.onRequest = onRequest;
        router.Options.Linger = TimeSpan.Zero;
        if (port == 0)
        {
            Port = router.BindRandomPort("tcp://127.0.0.1");
        }
        else
        {
            router.Bind($"tcp://127.0.0.1:{port}");
            Port = port;
        }

        router.ReceiveReady += (_, _) =>
        {
            var msg = new NetMQMessage();
            while (router.TryReceiveMultipartMessage(TimeSpan.Zero, ref msg))
            {
                var delimiter = Enumerable.Range(1, msg.FrameCount - 1).First(i => msg[i].BufferSize == 0);
                var route = Enumerable.Range(0, delimiter).Select(i => msg[i].ToByteArray()).ToArray();
                var r = new Request(route, ClearEnvelope.DecodeReply(msg[delimiter + 1].ToByteArray()));
                if (r.IsProbe)
                {
                    // The channel's readiness probe (ClearFuncs.ping): a master whose workers run answers it at once.
                    Interlocked.Increment(ref probes);
                    if (AnswerProbes)
                    {
                        Reply(r, r.Envelope);
                    }
                    else
                    {
                        heldProbes.Enqueue(r);
                        AnswerHeld(); // turned true meanwhile
                    }
                }
                else
                {
                    Received.Enqueue(r);
                    if (this.onRequest(this, r))
                    {
                        Reply(r, r.Envelope);
                    }
                }

                msg = new NetMQMessage();
            }
        };
        poller = [router];
        poller.RunAsync("router-peer", true);
    }

    public int Port { get; }

    private int probes;
    private readonly ConcurrentQueue<Request> heldProbes = new();
    private volatile bool answerProbes = true;

    /// <summary>The requests received, readiness probes left out.</summary>
    public ConcurrentQueue<Request> Received { get; } = new();

    /// <summary>The channel's readiness probes received.</summary>
    public int Probes => Volatile.Read(ref probes);

    /// <summary>
    /// Whether probes are answered (false: a master whose port is open but whose workers do not run yet). Probes not
    /// answered are held, and answered when this turns true, as a master's queue device hands them to its workers.
    /// </summary>
    public bool AnswerProbes
    {
        get => answerProbes;
        set
        {
            answerProbes = value;
            AnswerHeld();
        }
    }

    private void AnswerHeld()
    {
        while (answerProbes && heldProbes.TryDequeue(out var r))
        {
            Reply(r, r.Envelope);
        }
    }

    /// <summary>Answers a request (thread-safe: runs on the poller thread).</summary>
    public void Reply(Request r, object? value)
    {
        var bytes = SaltMsgpack.Serialize(value, MsgpackDialect.Request);
        void Send()
        {
            var m = new NetMQMessage();
            foreach (var frame in r.Route)
            {
                m.Append(frame);
            }

            m.AppendEmptyFrame();
            m.Append(bytes);
            router.SendMultipartMessage(m);
        }

        if (poller.CanExecuteTaskInline)
        {
            Send();
        }
        else
        {
            var t = new Task(Send);
            t.Start(poller);
            t.Wait();
        }
    }

    public void Dispose()
    {
        poller.Stop();
        poller.Dispose();
        router.Dispose();
    }

    internal sealed record Request(byte[][] Route, object? Envelope)
    {
        public bool IsProbe => Envelope is OrderedDictionary<string, object?> e && e.GetValueOrDefault("load") is OrderedDictionary<string, object?> l && l.ContainsKey("saltapi_probe");

        public OrderedDictionary<string, object?> Load => (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)Envelope!)["load"]!;
    }
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Client.Tests.Support;

/// <summary>
/// A bare listener speaking Salt's TCP transport on loopback (what a master with <c>transport: tcp</c> binds on
/// ret_port): lets channel tests hold, reorder, drop or answer requests, or send bytes of their own.
/// </summary>
internal sealed class TcpPeer : IDisposable
{
    private readonly Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Func<TcpPeer, Request, bool> onRequest;
    private readonly ConcurrentBag<Socket> accepted = [];
    private readonly CancellationTokenSource stop = new();

    /// <param name="onRequest">Called per request; true answers it with its own envelope.</param>
    /// <param name="port">The port to bind (a master restarted on its port); 0 for a free one.</param>
    public TcpPeer(Func<TcpPeer, Request, bool> onRequest, int port = 0)
    {
        this.onRequest = onRequest;
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(16);
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _ = AcceptAsync();
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

    public int Connections => accepted.Count;

    /// <summary>Answers a request with <paramref name="value"/> under its own head.</summary>
    public void Reply(Request r, object? value) => Write(r.Connection, Frame(r.Head, SaltMsgpack.Serialize(value, MsgpackDialect.Request)));

    /// <summary>Writes raw bytes on a request's connection (optionally a byte at a time).</summary>
    public static void Write(Socket s, byte[] bytes, bool byteByByte = false)
    {
        lock (s)
        {
            if (!byteByByte)
            {
                s.Send(bytes);
                return;
            }

            foreach (var b in bytes)
            {
                s.Send([b]);
                Thread.Sleep(1);
            }
        }
    }

    public static byte[] Frame(ReadOnlyMemory<byte> head, byte[] body)
    {
        var w = new ArrayBufferWriter<byte>();
        TcpFrame.WriteReply(w, head.Span, body);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Closes every connection (the master went away) but keeps listening.</summary>
    public void DropConnections()
    {
        foreach (var s in accepted)
        {
            s.Dispose();
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Dispose();
        DropConnections();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var s = await listener.AcceptAsync(stop.Token);
                accepted.Add(s);
                _ = Task.Run(() => ReadAsync(s));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ReadAsync(Socket s)
    {
        var scanner = new MsgpackScanner(1 << 20);
        var buf = new byte[1 << 20];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                var n = await s.ReceiveAsync(buf.AsMemory(end), SocketFlags.None, stop.Token);
                if (n == 0)
                {
                    return;
                }

                end += n;
                int len;
                while (start < end && (len = scanner.Scan(buf.AsSpan(start, end - start))) > 0)
                {
                    var raw = buf.AsMemory(start, len).ToArray();
                    var (head, mid, body) = TcpFrame.Read(raw);
                    var r = new Request(s, head, mid, (OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(head)!, ClearEnvelope.DecodeReply(body));
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
                        if (onRequest(this, r))
                        {
                            Reply(r, r.Envelope);
                        }
                    }

                    start += len;
                }

                if (start == end)
                {
                    start = end = 0;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    internal sealed record Request(Socket Connection, ReadOnlyMemory<byte> Head, long? Mid, OrderedDictionary<string, object?> HeadMap, object? Envelope)
    {
        public bool IsProbe => Envelope is OrderedDictionary<string, object?> e && e.GetValueOrDefault("load") is OrderedDictionary<string, object?> l && l.ContainsKey("saltapi_probe");

        public OrderedDictionary<string, object?> Load => (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)Envelope!)["load"]!;
    }
}

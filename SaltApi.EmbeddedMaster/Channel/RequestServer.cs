using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace SaltApi.EmbeddedMaster.Channel;

/// <summary>
/// The master's request port (spec/01 §1): a ROUTER socket owned by one NetMQPoller thread.
/// Requests are handed to workers off that thread; replies come back through a NetMQQueue so the
/// socket is only ever touched by its own thread.
/// </summary>
/// <remarks>
/// As Salt's ROUTER → zmq QUEUE device → DEALER → REP workers (salt/transport/zeromq.py RequestServer.zmq_device,
/// post_fork): a message is an envelope (the ROUTER's identity of the connection, then any frames the peer put
/// before an empty delimiter: none from a REQ socket, a request id from a DEALER), the empty delimiter, then the
/// body, of which the worker reads the first frame. The reply goes back under the same envelope, as a REP socket
/// echoes it. A message with no delimiter is dropped, as libzmq's REP drops it; so is one whose envelope is longer
/// than <see cref="MaxEnvelopeFrames"/> (a bound of ours: libzmq has none).
/// </remarks>
/// <remarks>
/// For speed, no lock is shared by the poller thread and the workers: a request starts on the thread pool at
/// once while fewer than max_concurrent_requests run, else waits in a lock-free queue that finishing workers
/// drain; replies wait in a lock-free queue too, and the NetMQQueue only carries one wake-up for a burst of them.
/// </remarks>
internal sealed class RequestServer : IRequestServer
{
    private readonly ILogger log;
    private readonly Func<byte[], Task<byte[]?>> handler;
    private readonly RouterSocket router = new();
    private readonly NetMQQueue<bool> wakeUps = new();
    private readonly ConcurrentQueue<NetMQMessage> replies = new();
    private readonly NetMQPoller poller;
    /// <summary>Frames before the delimiter, the ROUTER's identity included.</summary>
    internal const int MaxEnvelopeFrames = 32;

    private readonly ConcurrentQueue<(byte[][] Envelope, byte[] Payload)> waiting = new();
    private readonly int maxPending;
    private readonly int maxConcurrent;
    private readonly CancellationTokenSource stop = new();
    private int waitingCount;
    private int running;
    private int wakeUpPending;

    public RequestServer(ILogger log, Func<byte[], Task<byte[]?>> handler, int maxPending, int maxConcurrent, long maxMessageBytes)
    {
        this.log = log;
        this.handler = handler;
        this.maxPending = maxPending;
        this.maxConcurrent = maxConcurrent;
        router.Options.Linger = TimeSpan.Zero;
        router.Options.Backlog = 1000;
        // Deliberate difference: Salt accepts requests of any size; a larger one is dropped by ZeroMQ here.
        router.Options.MaxMsgSize = maxMessageBytes;
        router.ReceiveReady += OnReceive;
        wakeUps.ReceiveReady += OnReply;
        poller = new NetMQPoller { router, wakeUps };
    }

    /// <summary>The bound port.</summary>
    public int Port { get; private set; }

    /// <summary>Binds <c>tcp://{interface}:{port}</c> (port 0 → a free port) and starts the poller thread.</summary>
    public void Bind(string iface, int port)
    {
        var host = iface.Contains(':', StringComparison.Ordinal) ? $"[{iface}]" : iface;
        if (iface.Contains(':', StringComparison.Ordinal))
        {
            router.Options.IPv4Only = false;
        }

        if (port == 0)
        {
            Port = router.BindRandomPort($"tcp://{host}");
        }
        else
        {
            // A master restarted at once finds its old listener still closing on NetMQ's I/O thread:
            // wait for the port a little, as a restarted salt-master would retry its bind.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    router.Bind($"tcp://{host}:{port}");
                    break;
                }
                catch (AddressAlreadyInUseException) when (attempt < 50)
                {
                    Thread.Sleep(100);
                }
            }

            Port = port;
        }

        poller.RunAsync("salt-master ret port");
    }

    private void OnReceive(object? sender, NetMQSocketEventArgs e)
    {
        var msg = new NetMQMessage();
        // Drain what is ready, bounded per wake-up so replies keep flowing.
        for (var i = 0; i < 1000 && e.Socket.TryReceiveMultipartMessage(ref msg); i++)
        {
            if (Split(msg) is var (envelope, payload))
            {
                Accept(envelope, payload);
            }

            msg = new NetMQMessage();
        }
    }

    /// <summary>[envelope...][empty][body...] → the envelope and the body's first frame; null without a delimiter or a body.</summary>
    internal static (byte[][] Envelope, byte[] Payload)? Split(NetMQMessage msg)
    {
        var limit = Math.Min(msg.FrameCount, MaxEnvelopeFrames + 1);
        for (var i = 1; i < limit; i++)
        {
            if (msg[i].BufferSize == 0)
            {
                if (i + 1 >= msg.FrameCount)
                {
                    return null; // no body: nothing for a worker to read
                }

                var envelope = new byte[i][];
                for (var j = 0; j < i; j++)
                {
                    envelope[j] = msg[j].ToByteArray();
                }

                return (envelope, msg[i + 1].ToByteArray());
            }
        }

        return null;
    }

    // Starts the request, or queues it while max_concurrent_requests run (dropped beyond max_pending_requests).
    private void Accept(byte[][] envelope, byte[] payload)
    {
        if (stop.IsCancellationRequested)
        {
            return;
        }

        if (waiting.IsEmpty && TryTakeSlot())
        {
            Start(envelope, payload);
            return;
        }

        if (Interlocked.Increment(ref waitingCount) > maxPending)
        {
            Interlocked.Decrement(ref waitingCount);
            log.LogWarning("request queue full; dropping a request (the client retries)");
            return;
        }

        waiting.Enqueue((envelope, payload));
        StartWaiting(); // a worker may have finished between the check above and the enqueue
    }

    private bool TryTakeSlot()
    {
        while (true)
        {
            var n = Volatile.Read(ref running);
            if (n >= maxConcurrent)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref running, n + 1, n) == n)
            {
                return true;
            }
        }
    }

    // Called after a request is queued and after a worker frees its slot: neither side can miss the other.
    private void StartWaiting()
    {
        while (!waiting.IsEmpty && !stop.IsCancellationRequested && TryTakeSlot())
        {
            if (waiting.TryDequeue(out var item))
            {
                Interlocked.Decrement(ref waitingCount);
                Start(item.Envelope, item.Payload);
            }
            else
            {
                Interlocked.Decrement(ref running);
            }
        }
    }

    private void Start(byte[][] envelope, byte[] payload) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Server.HandleAsync(s.Envelope, s.Payload), (Server: this, Envelope: envelope, Payload: payload), preferLocal: false);

    private async Task HandleAsync(byte[][] envelope, byte[] payload)
    {
        try
        {
            var reply = await handler(payload);
            if (reply is not null && !stop.IsCancellationRequested)
            {
                // As REP: the envelope, the delimiter, the reply.
                var m = new NetMQMessage(envelope.Length + 2);
                foreach (var frame in envelope)
                {
                    m.Append(frame);
                }

                m.AppendEmptyFrame();
                m.Append(reply);
                replies.Enqueue(m);
                // One wake-up for the poller per burst: it clears the flag before it sends what is queued.
                if (Interlocked.Exchange(ref wakeUpPending, 1) == 0)
                {
                    wakeUps.Enqueue(true);
                }
            }
        }
        catch (Exception ex)
        {
            log.LogError(ex, "request handler failed");
        }
        finally
        {
            Interlocked.Decrement(ref running);
            StartWaiting();
        }
    }

    private void OnReply(object? sender, NetMQQueueEventArgs<bool> e)
    {
        while (e.Queue.TryDequeue(out _, TimeSpan.Zero))
        {
        }

        Interlocked.Exchange(ref wakeUpPending, 0);
        while (replies.TryDequeue(out var reply))
        {
            router.TrySendMultipartMessage(reply);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            poller.Stop();
        }
        catch (InvalidOperationException)
        {
        }

        poller.Remove(router);
        poller.Remove(wakeUps);
        router.Dispose();
        wakeUps.Dispose();
        poller.Dispose();
    }
}

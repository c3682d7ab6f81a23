using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace SaltApi.EmbeddedMaster.Channel;

/// <summary>
/// The master's request port (spec/01 §1): a ROUTER socket owned by one NetMQPoller thread.
/// Requests are handed to workers off that thread; replies come back through a NetMQQueue so the
/// socket is only ever touched by its own thread. Frames are [identity][empty][payload] (REQ peers).
/// </summary>
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
    private readonly ConcurrentQueue<(byte[] Identity, byte[] Payload)> waiting = new();
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
            // [identity][empty][payload] from a REQ peer; anything else is not Salt's protocol.
            if (msg.FrameCount == 3 && msg[1].BufferSize == 0)
            {
                Accept(msg[0].ToByteArray(), msg[2].ToByteArray());
            }

            msg = new NetMQMessage();
        }
    }

    // Starts the request, or queues it while max_concurrent_requests run (dropped beyond max_pending_requests).
    private void Accept(byte[] identity, byte[] payload)
    {
        if (stop.IsCancellationRequested)
        {
            return;
        }

        if (waiting.IsEmpty && TryTakeSlot())
        {
            Start(identity, payload);
            return;
        }

        if (Interlocked.Increment(ref waitingCount) > maxPending)
        {
            Interlocked.Decrement(ref waitingCount);
            log.LogWarning("request queue full; dropping a request (the client retries)");
            return;
        }

        waiting.Enqueue((identity, payload));
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
                Start(item.Identity, item.Payload);
            }
            else
            {
                Interlocked.Decrement(ref running);
            }
        }
    }

    private void Start(byte[] identity, byte[] payload) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Server.HandleAsync(s.Identity, s.Payload), (Server: this, Identity: identity, Payload: payload), preferLocal: false);

    private async Task HandleAsync(byte[] identity, byte[] payload)
    {
        try
        {
            var reply = await handler(payload);
            if (reply is not null && !stop.IsCancellationRequested)
            {
                var m = new NetMQMessage(3);
                m.Append(identity);
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

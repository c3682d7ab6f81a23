using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace SaltApi.EmbeddedMaster.Channel;

/// <summary>
/// The master's request port (spec/01 §1): a ROUTER socket owned by one NetMQPoller thread.
/// Requests are handed to workers off that thread; replies come back through a NetMQQueue so the
/// socket is only ever touched by its own thread. Frames are [identity][empty][payload] (REQ peers).
/// </summary>
internal sealed class RequestServer : IAsyncDisposable
{
    private readonly ILogger log;
    private readonly Func<byte[], Task<byte[]?>> handler;
    private readonly RouterSocket router = new();
    private readonly NetMQQueue<NetMQMessage> replies = new();
    private readonly NetMQPoller poller;
    private readonly Channel<(byte[] Identity, byte[] Payload)> pending;
    private readonly SemaphoreSlim concurrency;
    private readonly CancellationTokenSource stop = new();
    private readonly Task dispatcher;
    private int inFlight;

    public RequestServer(ILogger log, Func<byte[], Task<byte[]?>> handler, int maxPending, int maxConcurrent, long maxMessageBytes)
    {
        this.log = log;
        this.handler = handler;
        pending = System.Threading.Channels.Channel.CreateBounded<(byte[], byte[])>(new BoundedChannelOptions(maxPending) { SingleReader = true, SingleWriter = true });
        concurrency = new SemaphoreSlim(maxConcurrent, maxConcurrent);
        router.Options.Linger = TimeSpan.Zero;
        router.Options.Backlog = 1000;
        // Deliberate difference: Salt accepts requests of any size; a larger one is dropped by ZeroMQ here.
        router.Options.MaxMsgSize = maxMessageBytes;
        router.ReceiveReady += OnReceive;
        replies.ReceiveReady += OnReply;
        poller = new NetMQPoller { router, replies };
        dispatcher = Task.Run(DispatchAsync);
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
            if (msg.FrameCount != 3 || msg[1].BufferSize != 0)
            {
                msg = new NetMQMessage();
                continue;
            }

            var item = (msg[0].ToByteArray(), msg[2].ToByteArray());
            if (!pending.Writer.TryWrite(item))
            {
                log.LogWarning("request queue full; dropping a request (the client retries)");
            }

            msg = new NetMQMessage();
        }
    }

    private void OnReply(object? sender, NetMQQueueEventArgs<NetMQMessage> e)
    {
        while (e.Queue.TryDequeue(out var reply, TimeSpan.Zero))
        {
            router.TrySendMultipartMessage(reply);
        }
    }

    private async Task DispatchAsync()
    {
        try
        {
            await foreach (var (identity, payload) in pending.Reader.ReadAllAsync(stop.Token))
            {
                await concurrency.WaitAsync(stop.Token);
                Interlocked.Increment(ref inFlight);
                _ = Task.Run(async () =>
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
                        }
                    }
                    catch (Exception ex)
                    {
                        log.LogError(ex, "request handler failed");
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                        concurrency.Release();
                    }
                });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        pending.Writer.TryComplete();
        try
        {
            await dispatcher.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        try
        {
            poller.Stop();
        }
        catch (InvalidOperationException)
        {
        }

        poller.Remove(router);
        poller.Remove(replies);
        router.Dispose();
        replies.Dispose();
        poller.Dispose();
    }
}

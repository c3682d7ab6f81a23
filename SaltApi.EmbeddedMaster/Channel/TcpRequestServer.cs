using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.EmbeddedMaster.Channel;

/// <summary>The master's request port, over either transport.</summary>
internal interface IRequestServer : IAsyncDisposable
{
    /// <summary>The bound port.</summary>
    int Port { get; }

    /// <summary>Binds <c>{interface}:{port}</c> (port 0 → a free port) and starts serving.</summary>
    void Bind(string iface, int port);
}

/// <summary>
/// The master's request port with <c>transport: tcp</c>, as Salt's TCPReqServer (salt/transport/tcp.py): each
/// connection carries <c>{"head": {...}, "body": payload}</c> maps back to back, read with a streaming unpacker;
/// every message is handled at once, concurrently, and its reply is framed with the request's head (its mid).
/// Deliberate difference: Salt reads messages of any size and nesting; here each is bounded (max_request_bytes,
/// SaltMsgpack's depth) and a peer that breaks the framing loses its connection.
/// </summary>
internal sealed partial class TcpRequestServer(ILogger log, Func<byte[], Task<byte[]?>> handler, int maxPending, int maxConcurrent, long maxMessageBytes) : IRequestServer
{
    private const int MaxConnections = 1024;
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(30);

    [LoggerMessage(Level = LogLevel.Warning, Message = "a malformed TCP request ({Error}); closing the connection")]
    private static partial void LogMalformed(ILogger log, string error);

    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim running = new(maxConcurrent);
    private readonly ConcurrentDictionary<Socket, SemaphoreSlim> connections = new();
    private Socket? listener;
    private Task accepting = Task.CompletedTask;
    private int accepted;

    // Requests read and not yet answered: running plus waiting for a slot.
    private int inProgress;

    /// <inheritdoc/>
    public int Port { get; private set; }

    /// <inheritdoc/>
    public void Bind(string iface, int port)
    {
        var address = iface is "" or "0.0.0.0" ? IPAddress.Any : iface == "::" ? IPAddress.IPv6Any : IPAddress.Parse(iface);
        var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A master restarted at once may find its old port still closing: wait for it a little, as RequestServer.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    s.Bind(new IPEndPoint(address, port));
                    break;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < 50)
                {
                    Thread.Sleep(100);
                }
            }

            s.Listen(1000);
        }
        catch
        {
            s.Dispose();
            throw;
        }

        listener = s;
        Port = ((IPEndPoint)s.LocalEndPoint!).Port;
        accepting = AcceptLoopAsync(s);
    }

    private async Task AcceptLoopAsync(Socket l)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket s;
            try
            {
                s = await l.AcceptAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            if (Interlocked.Increment(ref accepted) > MaxConnections)
            {
                Interlocked.Decrement(ref accepted);
                s.Dispose();
                continue;
            }

            s.NoDelay = true;
            var writeLock = new SemaphoreSlim(1);
            connections[s] = writeLock;
            _ = Task.Run(() => ServeAsync(s, writeLock));
        }
    }

    /// <summary>One connection: a streaming unpacker over one growing buffer, each byte scanned once.</summary>
    private async Task ServeAsync(Socket s, SemaphoreSlim writeLock)
    {
        try
        {
            await TcpFrameReader.ReadAsync(
                s,
                maxMessageBytes,
                frame =>
                {
                    var (head, _, body) = TcpFrame.Read(frame);
                    Accept(s, writeLock, head.ToArray(), body.ToArray());
                },
                stop.Token).ConfigureAwait(false);
        }
        catch (SaltProtocolException e)
        {
            LogMalformed(log, e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            connections.TryRemove(s, out _);
            Interlocked.Decrement(ref accepted);
            s.Dispose();
        }
    }

    // As TCPReqServer.handle_stream: each message handled at once (spawn_callback), off the connection's reader so
    // that one slow request never holds up the others multiplexed on it; max_concurrent_requests run, up to
    // max_pending_requests more wait, and beyond that a request is dropped (the client times out).
    private void Accept(Socket s, SemaphoreSlim writeLock, byte[] head, byte[] body)
    {
        if (Interlocked.Increment(ref inProgress) > maxPending + maxConcurrent)
        {
            Interlocked.Decrement(ref inProgress);
            log.LogWarning("request queue full; dropping a request");
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static st => _ = st.Server.HandleAsync(st.Socket, st.WriteLock, st.Head, st.Body), (Server: this, Socket: s, WriteLock: writeLock, Head: head, Body: body), preferLocal: false);
    }

    private async Task HandleAsync(Socket s, SemaphoreSlim writeLock, byte[] head, byte[] body)
    {
        try
        {
            await running.WaitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Decrement(ref inProgress);
            return;
        }

        try
        {
            var reply = await handler(body).ConfigureAwait(false);
            if (reply is null || stop.IsCancellationRequested)
            {
                return;
            }

            var frame = new ArrayBufferWriter<byte>(reply.Length + head.Length + 16);
            TcpFrame.WriteReply(frame, head, reply);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            timeout.CancelAfter(WriteTimeout);
            await writeLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                var data = frame.WrittenMemory;
                while (data.Length > 0)
                {
                    data = data[await s.SendAsync(data, SocketFlags.None, timeout.Token).ConfigureAwait(false)..];
                }
            }
            finally
            {
                writeLock.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The peer went away or stopped reading: its connection is of no more use.
            s.Dispose();
        }
        catch (Exception ex)
        {
            log.LogError(ex, "request handler failed");
        }
        finally
        {
            running.Release();
            Interlocked.Decrement(ref inProgress);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        listener?.Dispose();
        foreach (var s in connections.Keys)
        {
            s.Dispose();
        }

        await accepting.ConfigureAwait(false);
    }
}

using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SaltApi.Client.Config;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Client.Request;

/// <summary>
/// Salt's TCP request transport (<c>transport: tcp</c>; salt/transport/tcp.py RequestClient and MessageClient):
/// persistent connections to <c>interface:ret_port</c> carrying <c>{"head": {"mid": N}, "body": payload}</c>
/// back to back (<see cref="TcpFrame"/>); the reply carries the request's mid, so one connection multiplexes every
/// request. We keep <c>request_threads</c> connections, reconnect with backoff, and time out per request.
/// As over ZeroMQ, a request is never sent twice: one waits for a connection at most <see cref="RequestChannel.NoConnectionWait"/>
/// (then 503), and once written it gets one timeout. When its connection drops it fails at once (the master
/// went away with it; Salt's MessageClient would wait out its timeout).
/// </summary>
internal sealed partial class TcpTransport : IRequestTransport
{
    /// <summary>The largest reply read (Salt reads any size; every byte from the socket is untrusted here).</summary>
    internal const long MaxReplyBytes = 256L << 20;

    private const int SweepMs = 50;
    private const int BufferBytes = 64 * 1024;

    [LoggerMessage(Level = LogLevel.Warning, Message = "the TCP connection to the master dropped: {Count} request(s) in flight failed")]
    private static partial void LogDropped(ILogger log, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "no TCP connection to the master: {Count} request(s) not sent failed")]
    private static partial void LogNotSent(ILogger log, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "cannot connect to the master at {Host}:{Port} ({Error}); retrying in {DelayMs} ms")]
    private static partial void LogConnectFailed(ILogger log, string host, int port, string error, int delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the master sent a malformed TCP message ({Error}); closing the connection")]
    private static partial void LogMalformed(ILogger log, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "a reply for message id {Mid} that is not in flight (timed out or cancelled)")]
    private static partial void LogUntracked(ILogger log, long? mid);

    private readonly ClientOptions options;
    private readonly ILogger log;
    private readonly Connection[] connections;
    private readonly CancellationTokenSource stop = new();
    private readonly Timer sweeper;
    private int next;
    private long drops;
    private volatile bool disposed;

    public TcpTransport(ClientOptions options, ILogger log)
    {
        this.options = options;
        this.log = log;
        connections = new Connection[options.RequestThreads];
        for (var i = 0; i < connections.Length; i++)
        {
            connections[i] = new Connection(this);
        }

        sweeper = new Timer(static s => ((TcpTransport)s!).Sweep(), this, SweepMs, SweepMs);
    }

    /// <inheritdoc/>
    public int OpenSockets => connections.Count(c => c.IsConnected);

    /// <inheritdoc/>
    public long Drops => Volatile.Read(ref drops);

    /// <inheritdoc/>
    public async Task<byte[]> SendAsync(byte[] payload, TimeSpan timeout, int tries, long drops, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var pending = new PendingRequest(payload, timeout, tries, drops);

        // Round robin, preferring a connection that is up.
        var first = (int)((uint)Interlocked.Increment(ref next) % (uint)connections.Length);
        var conn = connections[first];
        for (var i = 0; i < connections.Length && !conn.IsConnected; i++)
        {
            if (connections[(first + i) % connections.Length] is { IsConnected: true } up)
            {
                conn = up;
            }
        }

        conn.Enqueue(pending);
        return await pending.ReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void FailInFlight()
    {
        var failed = connections.Sum(c => c.FailSent(() => new MasterGoneException()));
        if (failed > 0)
        {
            LogDropped(log, failed);
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        stop.Cancel();
        sweeper.Dispose();
        foreach (var c in connections)
        {
            c.Close();
        }

        log.LogDebug("TCP request transport closed");
    }

    private void Sweep()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var c in connections)
        {
            c.Sweep(now);
        }
    }

    /// <summary>One persistent connection: a connect loop, a writer and a reader; the requests written on it by mid.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its semaphore is only awaited: it never creates a wait handle.")]
    private sealed class Connection(TcpTransport owner)
    {
        // As MessageClient._max_messages.
        private const long MaxMid = (1L << 31) - 2;
        private readonly Lock gate = new();
        private readonly List<PendingRequest> queue = []; // not written yet, oldest first
        private readonly Dictionary<long, PendingRequest> sent = [];
        private readonly SemaphoreSlim signal = new(0);
        private bool signaled;
        private long mid;
        private int started;
        private Socket? socket;
        private volatile bool connected;

        public bool IsConnected => connected;

        public void Enqueue(PendingRequest p)
        {
            lock (gate)
            {
                queue.Add(p);
                Signal();
            }

            if (Interlocked.Exchange(ref started, 1) == 0)
            {
                _ = Task.Run(RunAsync);
            }
        }

        // Under the gate: one wake-up for the writer per batch.
        private void Signal()
        {
            if (!signaled)
            {
                signaled = true;
                signal.Release();
            }
        }

        public int FailSent(Func<Exception> error)
        {
            lock (gate)
            {
                var failed = PendingRequest.FailAll(sent.Values, error);
                sent.Clear();
                return failed;
            }
        }

        public void Sweep(long now)
        {
            lock (gate)
            {
                foreach (var (m, p) in sent)
                {
                    if (p.Reply.Task.IsCompleted || now >= p.Deadline)
                    {
                        // Written: it may have reached the master, so it is not sent again.
                        p.Reply.TrySetException(new RequestTimeoutException());
                        sent.Remove(m); // allowed while enumerating a Dictionary since .NET Core 3.0
                    }
                }

                var notSent = 0;
                foreach (var p in queue)
                {
                    if (now >= p.LastDeadline)
                    {
                        p.Reply.TrySetException(new RequestTimeoutException());
                    }
                    else if (!connected && now - p.Queued >= PendingRequest.NoConnectionTicks && p.Reply.TrySetException(new MasterGoneException()))
                    {
                        // No connection for NoConnectionWait (the master stopped or restarting): a 503; never written, never sent later.
                        notSent++;
                    }
                }

                if (notSent > 0)
                {
                    LogNotSent(owner.log, notSent);
                }

                queue.RemoveAll(static p => p.Reply.Task.IsCompleted);
            }
        }

        public void Close()
        {
            lock (gate)
            {
                socket?.Dispose();
                PendingRequest.FailAll(queue, static () => new ObjectDisposedException(nameof(TcpTransport)));
                queue.Clear();
            }

            FailSent(() => new ObjectDisposedException(nameof(TcpTransport)));
        }

        private async Task RunAsync()
        {
            var o = owner.options;
            var host = o.Master.ClientHost;
            var port = o.Master.RetPort;
            EndPoint endpoint = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
            var backoffMs = 100;
            var stopping = owner.stop.Token;
            while (!stopping.IsCancellationRequested)
            {
                // An address's own family (no dual-mode socket, which a host without IPv6 cannot open); a name: dual mode.
                var s = endpoint is IPEndPoint ipe ? new Socket(ipe.AddressFamily, SocketType.Stream, ProtocolType.Tcp) : new Socket(SocketType.Stream, ProtocolType.Tcp);
                s.NoDelay = true;
                try
                {
                    Configure(s, o);
                    using var connect = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    connect.CancelAfter(TimeSpan.FromSeconds(5));
                    await s.ConnectAsync(endpoint, connect.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    s.Dispose();
                    if (stopping.IsCancellationRequested)
                    {
                        break;
                    }

                    // Reconnect with backoff, as Salt's MessageClient, doubling, but up to MaxReconnectInterval (Salt: 5 s), so
                    // that a master back on its port is found before the requests waiting for it give up.
                    LogConnectFailed(owner.log, host, port, e.Message, backoffMs);
                    try
                    {
                        await Task.Delay(backoffMs, stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }

                    backoffMs = Math.Min(backoffMs * 2, (int)RequestChannel.MaxReconnectInterval.TotalMilliseconds);
                    continue;
                }

                backoffMs = 100;
                lock (gate)
                {
                    if (stopping.IsCancellationRequested)
                    {
                        s.Dispose();
                        break;
                    }

                    socket = s;
                    connected = true;
                    if (queue.Count > 0)
                    {
                        Signal();
                    }
                }

                using (var dropped = CancellationTokenSource.CreateLinkedTokenSource(stopping))
                {
                    var writer = WriteLoopAsync(s, dropped.Token);
                    await ReadLoopAsync(s, dropped.Token).ConfigureAwait(false);
                    await dropped.CancelAsync().ConfigureAwait(false);
                    s.Dispose();
                    await writer.ConfigureAwait(false);
                }

                lock (gate)
                {
                    connected = false;
                    socket = null;
                }

                Interlocked.Increment(ref owner.drops);

                // What was written on it can get no reply: fail it now, never send it again.
                var failed = FailSent(() => new MasterGoneException());
                if (failed > 0)
                {
                    LogDropped(owner.log, failed);
                }
            }
        }

        private static void Configure(Socket s, ClientOptions o)
        {
            if (o.TcpKeepalive is { } ka)
            {
                s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, ka);
                if (ka && o.TcpKeepaliveIdle > 0)
                {
                    s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, o.TcpKeepaliveIdle);
                }

                if (ka && o.TcpKeepaliveIntvl > 0)
                {
                    s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, o.TcpKeepaliveIntvl);
                }
            }
        }

        private async Task WriteLoopAsync(Socket s, CancellationToken ct)
        {
            var buffer = new ArrayBufferWriter<byte>(BufferBytes);
            try
            {
                while (true)
                {
                    await signal.WaitAsync(ct).ConfigureAwait(false);
                    lock (gate)
                    {
                        signaled = false;
                        var now = Stopwatch.GetTimestamp();
                        foreach (var p in queue)
                        {
                            // Made before a connection dropped (the master may be back, not yet answering): not written.
                            if (p.Reply.Task.IsCompleted || p.Stale(owner.Drops))
                            {
                                continue;
                            }

                            // As MessageClient._message_id: the next id not in flight, from 1, wrapping.
                            do
                            {
                                mid = mid >= MaxMid ? 1 : mid + 1;
                            }
                            while (sent.ContainsKey(mid));

                            // Its reply is waited for until every attempt's time is out (the deadline it was made with),
                            // as long as Salt's client would wait, and at least one attempt's time: never written again.
                            p.Deadline = Math.Max(now + PendingRequest.Ticks(p.Timeout), p.LastDeadline);
                            sent[mid] = p;
                            TcpFrame.Write(buffer, mid, p.Payload);
                        }

                        queue.Clear();
                    }

                    if (buffer.WrittenCount > 0)
                    {
                        var data = buffer.WrittenMemory;
                        while (data.Length > 0)
                        {
                            var n = await s.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
                            data = data[n..];
                        }

                        buffer.ResetWrittenCount();
                        if (buffer.Capacity > 16 * BufferBytes)
                        {
                            buffer = new ArrayBufferWriter<byte>(BufferBytes);
                        }
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Dropped or closing: the reader ends too (the socket is shut down).
                try
                {
                    s.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e2) when (e2 is SocketException or ObjectDisposedException)
                {
                }
            }
        }

        /// <summary>Reads replies until the connection ends: a streaming unpacker over one growing buffer, each byte scanned once.</summary>
        private async Task ReadLoopAsync(Socket s, CancellationToken ct)
        {
            try
            {
                await TcpFrameReader.ReadAsync(s, MaxReplyBytes, Dispatch, ct).ConfigureAwait(false);
            }
            catch (SaltProtocolException e)
            {
                LogMalformed(owner.log, e.Message);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private void Dispatch(ReadOnlyMemory<byte> message)
        {
            var (_, m, body) = TcpFrame.Read(message);
            PendingRequest? p = null;
            lock (gate)
            {
                if (m is { } id)
                {
                    sent.Remove(id, out p);
                }
            }

            if (p is null)
            {
                // As MessageClient: "Got response for message_id %s that we are not tracking".
                LogUntracked(owner.log, m);
                return;
            }

            p.Reply.TrySetResult(body.ToArray());
        }
    }
}

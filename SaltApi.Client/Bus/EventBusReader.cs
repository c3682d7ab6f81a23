using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Events;
using SaltApi.Client.Diagnostics;
using SaltApi.Client.Config;
using SaltApi.Protocol;
using SaltApi.Protocol.Config;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Client.Bus;

/// <summary>The bus connection went away while a call was waiting for its job's events.</summary>
internal sealed class BusLostException() : Exception("The master event bus connection was lost.");

/// <summary>
/// The ONE reader of the master event bus for the whole daemon (spec/02 §1–4): a stream socket on
/// <c>{sock_dir}/master_event_pub.ipc</c> (or 127.0.0.1:<c>tcp_master_pub_port</c> with
/// <c>ipc_mode: tcp</c>), reconnected with backoff when it goes away. Every event is fanned out to
/// the <see cref="IEventStream"/> subscribers and routed by jid to the calls waiting on that job.
/// </summary>
internal sealed partial class EventBusReader : IEventStream, IBusGauges, IAsyncDisposable
{
    private const int ReadChunk = 64 * 1024;
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly ClientOptions options;
    private readonly ILogger log;
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim wake = new(0, 1);
    private readonly Lock subscribersLock = new();
    private Subscription[] subscribers = [];
    private TaskCompletionSource connected = NewSignal();
    private volatile bool unreachable;

    // Completed (and replaced) each time an attempt to connect fails.
    private TaskCompletionSource connectFailed = NewSignal();
    private Task? loop;
    private int started;

    /// <param name="fanOutTime">The clock and timer that pace the hand-off to subscribers (tests drive it).</param>
    public EventBusReader(ClientOptions options, ILogger log, TimeProvider? fanOutTime = null)
    {
        this.options = options;
        this.log = log;
        this.fanOutTime = fanOutTime ?? TimeProvider.System;
        handOffTicks = (long)(options.EventBatchMs * this.fanOutTime.TimestampFrequency / 1000.0);
        Jids.Reading();
    }

    /// <summary>The jids in use that this daemon can vouch for (a lowstate's own jid is checked against them).</summary>
    public JobIds Jids { get; } = new(TimeProvider.System);

    /// <summary>
    /// Raised (on the reader's task) when the bus closed and cannot be connected again at once: the master went
    /// away, and the requests waiting on its request channel will get no reply.
    /// </summary>
    public event Action? MasterLost;

    /// <summary>
    /// The last attempt to connect failed (nothing listens on the bus: the master is stopped or restarting, its socket
    /// file left behind). A wait for the bus then lasts at most <see cref="Request.RequestChannel.NoConnectionWait"/>.
    /// </summary>
    public bool Unreachable => unreachable;

    /// <summary>Event streams subscribed.</summary>
    public int SubscriberCount => Volatile.Read(ref subscribers).Length;

    /// <summary>True while the socket is connected.</summary>
    public bool IsConnected => Volatile.Read(ref connected).Task.IsCompleted;

    /// <summary>Starts the reader loop (idempotent; never blocks).</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref started, 1) == 0)
        {
            ClientMetrics.Register(this);
            loop = Task.Run(RunAsync);
        }
    }

    /// <summary>
    /// Waits until the bus is connected, as LocalClient/RunnerClient connect their reader before they
    /// send (the bus does not replay). False when it does not connect within <paramref name="timeout"/>, or within
    /// <see cref="Request.RequestChannel.NoConnectionWait"/> when the bus was found <see cref="Unreachable"/>.
    /// Deliberate difference: Salt's reader waits out the whole timeout (60 s for a runner) with the master down.
    /// </summary>
    public async Task<bool> WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Start();
        var signal = Volatile.Read(ref connected).Task;
        if (signal.IsCompleted)
        {
            return true;
        }

        var started = Stopwatch.GetTimestamp();
        var failed = Volatile.Read(ref connectFailed).Task;
        Nudge();
        try
        {
            // Reachable as far as is known (the bus may be between a close and the next attempt): wait for a connection
            // or for an attempt that fails. Unreachable: wait what is left of NoConnectionWait.
            if (!unreachable && await Task.WhenAny(signal, failed).WaitAsync(timeout, cancellationToken).ConfigureAwait(false) == signal)
            {
                return true;
            }

            var left = (timeout < Request.RequestChannel.NoConnectionWait ? timeout : Request.RequestChannel.NoConnectionWait) - Stopwatch.GetElapsedTime(started);
            if (left > TimeSpan.Zero)
            {
                await signal.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }

            return signal.IsCompleted;
        }
        catch (TimeoutException)
        {
            return signal.IsCompleted;
        }
    }

    /// <inheritdoc/>
    public IEventSubscription Subscribe()
    {
        Start();
        var sub = new Subscription(this, options.EventQueue) { From = NextSequence() };
        lock (subscribersLock)
        {
            subscribers = [.. subscribers, sub];
        }

        return sub;
    }

    private void Unsubscribe(Subscription sub)
    {
        lock (subscribersLock)
        {
            subscribers = Array.FindAll(subscribers, s => !ReferenceEquals(s, sub));
        }
    }

    private void Nudge()
    {
        try
        {
            wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already nudged
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task RunAsync()
    {
        var backoff = MinBackoff;
        var buffer = new byte[ReadChunk];
        var justLost = false;
        while (!stop.IsCancellationRequested)
        {
            Socket? socket = null;
            try
            {
                try
                {
                    socket = await ConnectAsync(options.Master, stop.Token).ConfigureAwait(false);
                }
                catch (SocketException) when (justLost)
                {
                    // Closed, and nothing listens any more: the master is gone (a reader the master dropped
                    // connects again at once, and the requests in flight are left alone).
                    LogMasterLost(log);
                    MasterLost?.Invoke();
                    throw;
                }
                finally
                {
                    justLost = false;
                }

                backoff = MinBackoff;
                unreachable = false;
                log.LogDebug("connected to the master event bus");
                Jids.Reading();
                Volatile.Read(ref connected).TrySetResult();
                buffer = await ReadAsync(socket, buffer, stop.Token).ConfigureAwait(false);
                log.LogInformation("the master event bus closed; reconnecting");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is SocketException or IOException or SaltProtocolException or ObjectDisposedException)
            {
                if (IsConnected)
                {
                    log.LogWarning("the master event bus failed ({Error}); reconnecting", e.Message);
                }
                else
                {
                    unreachable = true;
                    Interlocked.Exchange(ref connectFailed, NewSignal()).TrySetResult();
                    LogCannotConnect(log, e.Message);
                }
            }
            finally
            {
                socket?.Dispose();
            }

            if (IsConnected)
            {
                Interlocked.Exchange(ref connected, NewSignal());
                FailWatches();
                justLost = true;
            }

            try
            {
                await wake.WaitAsync(backoff, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>
    /// A socket for one of the master's bus sockets, and its address: <c>master_event_pub.ipc</c> (or, with
    /// <paramref name="pull"/>, <c>master_event_pull.ipc</c>) in sock_dir, or its 127.0.0.1 port with <c>ipc_mode: tcp</c>.
    /// </summary>
    internal static (Socket Socket, EndPoint Endpoint) BusSocket(MasterConfig master, bool pull = false)
    {
        if (master.IpcTcp)
        {
            var port = pull ? master.TcpMasterPullPort : master.TcpMasterPubPort;
            return (new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }, new IPEndPoint(IPAddress.Loopback, port));
        }

        return (new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified), new UnixDomainSocketEndPoint(pull ? master.EventPullPath : master.EventPubPath));
    }

    /// <summary>
    /// Connects with a blocking connect on a thread of its own, bounded by SO_SNDTIMEO (5 s; Linux applies it to
    /// connect). A socket connected asynchronously stays non-blocking in .NET, and each blocking receive on it is then
    /// emulated through the runtime's epoll thread: two wake-ups of that thread, and a receive that finds nothing, per
    /// event read. Connected this way the reader's thread sleeps in its receive.
    /// </summary>
    private static async Task<Socket> ConnectAsync(MasterConfig master, CancellationToken ct)
    {
        var (socket, endpoint) = BusSocket(master);
        Task? connect = null;
        try
        {
            socket.SendTimeout = (int)ConnectTimeout.TotalMilliseconds;
            connect = Task.Factory.StartNew(static s =>
            {
                var (so, ep) = ((Socket, EndPoint))s!;
                so.Connect(ep);
            }, (socket, endpoint), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await connect.WaitAsync(ct).ConfigureAwait(false);
            socket.SendTimeout = 0;
            return socket;
        }
        catch
        {
            // Also when stopping: a connect still blocked fails on the closed socket, on its own thread.
            socket.Dispose();
            _ = connect?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>
    /// Reads frames until EOF on a thread of its own; returns the (possibly grown) buffer for the next connection.
    /// The bus is read as it arrives: an asynchronous receive would resume on the thread pool, queued behind the
    /// stream writers that every hand-off wakes (1,000 of them for 1,000 <c>/events</c> streams), so the bus was
    /// read once per fan-out cycle. Stopping closes the socket, which ends the blocking receive.
    /// </summary>
    private Task<byte[]> ReadAsync(Socket socket, byte[] buffer, CancellationToken ct)
    {
        var done = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            using var closeOnStop = ct.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket);
            try
            {
                done.TrySetResult(EventFrameReader.Read(socket, buffer, OnFrame, HandOffOrArm));
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                done.TrySetCanceled(ct);
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "salt-api event bus reader",
        };
        thread.Start();
        return done.Task;
    }

    private void OnFrame(ReadOnlySequence<byte> frame)
    {
        if (EventFrame.TryParse(frame, out var raw))
        {
            Dispatch(raw);
        }
    }

    /// <summary>
    /// Fans one event out. For speed, its data is decoded only when someone wants it: a subscriber, or a
    /// call watching (or pending on) its jid. With neither (local_async traffic) a frame costs no allocation.
    /// Decoding happens here, before the read buffer is reused.
    /// </summary>
    private void Dispatch(in RawBusEvent raw)
    {
        ClientMetrics.EventsRead.Add(1);
        Jids.Observe(raw.TagBytes);
        var subs = Volatile.Read(ref subscribers);
        if (subs.Length == 0 && !HasRouteInterest)
        {
            return;
        }

        var tag = raw.Tag;
        var jid = EventTag.JidOf(tag);
        var routed = jid is not null && WantsRoute(jid);
        if (subs.Length == 0 && !routed)
        {
            return;
        }

        // As before: a malformed data map fails the connection (SaltProtocolException), a non-map is skipped.
        var data = raw.DecodeData();
        if (data is null)
        {
            return;
        }

        if (subs.Length > 0)
        {
            // One instance for every subscriber (its JSON is serialized once), handed off with the others of
            // this read or of the next few milliseconds (FanOut.cs).
            Gather(new SaltEvent(tag, data));
        }

        if (routed)
        {
            Route(new BusEvent(tag, data), jid!);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the master event bus closed and nothing listens on it: the master is gone; failing the requests in flight")]
    private static partial void LogMasterLost(ILogger log);

    [LoggerMessage(Level = LogLevel.Debug, Message = "cannot connect to the master event bus: {Error}")]
    private static partial void LogCannotConnect(ILogger log, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "an event subscriber fell {Count} events behind and was disconnected")]
    private static partial void LogSubscriberDropped(ILogger log, int count);

    public async ValueTask DisposeAsync()
    {
        if (stop.IsCancellationRequested)
        {
            return;
        }

        await stop.CancelAsync().ConfigureAwait(false);
        ClientMetrics.Unregister(this);
        if (loop is not null)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        }

        DisposeFanOut();
        foreach (var s in Volatile.Read(ref subscribers))
        {
            s.Complete(null);
        }

        FailWatches();
        stop.Dispose();
        wake.Dispose();
    }

    /// <summary>One <see cref="IEventStream"/> subscriber: a bounded queue, completed on overflow.</summary>
    private sealed class Subscription(EventBusReader bus, int capacity) : IEventSubscription
    {
        private readonly Channel<SaltEvent> channel = Channel.CreateBounded<SaltEvent>(new BoundedChannelOptions(capacity)
        {
            SingleWriter = true,
            SingleReader = false,
            FullMode = BoundedChannelFullMode.Wait,
        });

        public ChannelReader<SaltEvent> Reader => channel.Reader;

        /// <summary>The sequence number of the first event it takes (<see cref="NextSequence"/> when it subscribed).</summary>
        public long From { get; init; }

        public bool Disposed { get; private set; }

        public bool Post(SaltEvent e)
        {
            if (channel.Writer.TryWrite(e))
            {
                return true;
            }

            // Full (or already completed): drop the subscriber rather than silently losing events.
            channel.Writer.TryComplete(new EventStreamOverflowException());
            return false;
        }

        public void Complete(Exception? error) => channel.Writer.TryComplete(error);

        public void Dispose()
        {
            Disposed = true;
            bus.Unsubscribe(this);
            channel.Writer.TryComplete();
        }
    }
}

using Microsoft.Extensions.Logging;
using SaltApi.Client.Config;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Config;

namespace SaltApi.Client.Request;

/// <summary>No reply after every attempt (Salt's SaltReqTimeoutError).</summary>
internal sealed class RequestTimeoutException() : Exception("Message timed out");

/// <summary>The master went away while the request waited (its connection dropped, its event bus closed, or its "running" file went away): no reply will come.</summary>
internal sealed class MasterGoneException() : Exception("Salt Master is not available.");

/// <summary>
/// How clear payloads reach the master and replies come back: ZeroMQ REQ sockets or Salt's TCP transport.
/// Both keep the channel's guarantees: a request that may have reached the master is never sent again, and one
/// in flight when the master goes away fails at once (<see cref="MasterGoneException"/>).
/// </summary>
internal interface IRequestTransport : IDisposable
{
    /// <summary>
    /// Sends one packed clear payload; the packed reply. It is sent only while <see cref="Drops"/> is still
    /// <paramref name="drops"/>: once a connection dropped, it fails unsent (<see cref="MasterGoneException"/>).
    /// </summary>
    /// <exception cref="RequestTimeoutException">
    /// No reply within <paramref name="tries"/> attempts' time (<paramref name="timeout"/> each), as long as Salt's client
    /// waits; a request that may have reached the master is sent once and its reply waited for all that time.
    /// </exception>
    /// <exception cref="MasterGoneException">The master went away with the request, or before it was sent.</exception>
    Task<byte[]> SendAsync(byte[] payload, TimeSpan timeout, int tries, long drops, CancellationToken cancellationToken);

    /// <summary>How many times a connection to the master dropped so far.</summary>
    long Drops { get; }

    /// <summary>The master went away: fails every request in flight now; later ones are not affected.</summary>
    void FailInFlight();

    /// <summary>Sockets (ZeroMQ) or connections (TCP) open now.</summary>
    int OpenSockets { get; }
}

/// <summary>
/// The master's request channel (spec/01 §1, §6): clear loads to <c>ret_port</c> over the master's
/// <c>transport</c> (zeromq, the default, or tcp, as Salt's AsyncReqChannel picks its RequestClient),
/// at most <c>request_sockets</c> in flight at once.
/// </summary>
internal sealed class RequestChannel : IDisposable
{
    /// <summary>
    /// How long a request waits, unsent, for a connection to the master before it fails with a 503 (Salt Master is
    /// not available). Deliberate difference: Salt's REQ socket queues it and waits out every attempt (5 s x 3 for a
    /// publish, 60 s x 3 for runner and wheel), so during a master's restart (its ipc files stay, nothing listens on
    /// ret_port) every request hangs. A request that was never sent cannot have reached the master: it is not retried.
    /// </summary>
    public static readonly TimeSpan NoConnectionWait = TimeSpan.FromSeconds(1.5);

    /// <summary>
    /// The longest wait between two attempts to connect to a master that is down (ZeroMQ's reconnect interval, the TCP
    /// transport's backoff): short, so that a master back on its port is found before a request's <see cref="NoConnectionWait"/>
    /// ends. Salt connects a fresh REQ socket per request; our sockets live long and would otherwise back off to 5 s.
    /// </summary>
    public static readonly TimeSpan MaxReconnectInterval = TimeSpan.FromMilliseconds(500);

    private readonly IRequestTransport transport;
    private readonly RequestSlots slots;
    private readonly MasterReadiness readiness;

    public RequestChannel(ClientOptions options, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        slots = new RequestSlots(options.RequestSockets);
        transport = IsTcp(options.Master)
            ? new TcpTransport(options, log)
            : new ZeromqTransport(options, log);
        readiness = new MasterReadiness(transport, log);
    }

    /// <summary>The master's <c>transport</c> is tcp (anything else was refused when the options were read).</summary>
    public static bool IsTcp(MasterConfig master)
    {
        ArgumentNullException.ThrowIfNull(master);
        return master.Transport == "tcp";
    }

    /// <summary>Sends one clear load and returns the decoded reply (any msgpack value).</summary>
    /// <exception cref="RequestTimeoutException">No reply after <paramref name="tries"/> attempts.</exception>
    /// <exception cref="MasterGoneException">The master went away with the request.</exception>
    public async Task<object?> SendAsync(IEnumerable<KeyValuePair<string, object?>> load, TimeSpan timeout, int tries, CancellationToken cancellationToken)
    {
        var payload = ClearEnvelope.Encode(load);
        // Sent only to a master known to answer (see MasterReadiness); else a 503, unsent, within NoConnectionWait.
        var drops = readiness.ReadyDrops();
        if (drops < 0)
        {
            drops = await readiness.WaitAsync(timeout * Math.Max(1, tries), cancellationToken).ConfigureAwait(false);
        }

        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Decoded here, on the caller's thread, not on a thread that owns sockets.
            var reply = await transport.SendAsync(payload, timeout, tries, drops, cancellationToken).ConfigureAwait(false);
            return ClearEnvelope.DecodeReply(reply);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>
    /// The master went away (its event bus closed and cannot be reached): fails every request in flight at
    /// once. Requests sent after this are not affected, but wait for the master to answer a probe.
    /// </summary>
    public void FailInFlight()
    {
        readiness.Unknown();
        transport.FailInFlight();
    }

    /// <summary>Sockets (ZeroMQ, each with its monitor) or connections (TCP) open now.</summary>
    internal int OpenSockets => transport.OpenSockets;

    public void Dispose() => transport.Dispose();

    /// <summary>
    /// Bounds the requests in flight (<c>request_sockets</c>). For speed, a free slot is taken with one
    /// interlocked operation; callers only queue (on a semaphore) when every slot is taken.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its semaphore never creates a wait handle: nothing to release.")]
    private sealed class RequestSlots(int count)
    {
        private readonly SemaphoreSlim waiters = new(0);

        // Free slots; below zero, minus the number of callers waiting.
        private int free = count;

        public ValueTask WaitAsync(CancellationToken ct)
        {
            if (ct.IsCancellationRequested)
            {
                // As SemaphoreSlim.WaitAsync: a caller already cancelled never takes a slot (nor sends).
                return ValueTask.FromCanceled(ct);
            }

            return Interlocked.Decrement(ref free) >= 0 ? ValueTask.CompletedTask : WaitSlowAsync(ct);
        }

        private async ValueTask WaitSlowAsync(CancellationToken ct)
        {
            try
            {
                await waiters.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Still counted as waiting, so a release will hand this caller a slot: pass it on when it does.
                _ = waiters.WaitAsync(CancellationToken.None).ContinueWith(static (_, s) => ((RequestSlots)s!).Release(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw;
            }
        }

        public void Release()
        {
            if (Interlocked.Increment(ref free) <= 0)
            {
                waiters.Release();
            }
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using SaltApi.Protocol.Channel;

namespace SaltApi.Client.Request;

/// <summary>
/// Whether the master answers requests now, so that none is sent to a master that would only queue it. A restarted
/// salt-master opens ret_port at once, but its MWorkers take seconds (10-25 s on a loaded host) to start: a request
/// sent meanwhile waits in the master's queue device, its client times out (a 503 after 5 s), and the master runs it
/// later all the same, a publish nobody waits for. So after the channel starts, after a connection drops and after
/// the master's bus went away, the master's state is unknown: the next request sends a
/// probe, ClearFuncs.ping (salt/master.py: it answers the load back, with no side effect), and every request waits for
/// its answer at most <see cref="RequestChannel.NoConnectionWait"/>, then fails unsent with a 503. The first answer
/// makes the master ready again; one probe at a time is in flight. A request that timed out does not make the state
/// unknown: a congested master answers a probe as late as any request, so probing then would only turn its slow
/// answers into 503s (a master that hangs with its connections open gets Salt's timeouts).
/// </summary>
/// <remarks>
/// Deliberate difference: Salt's client sends each request and waits out its timeout (5 s x 3 for a publish).
/// </remarks>
internal sealed partial class MasterReadiness(IRequestTransport transport, ILogger log)
{
    /// <summary>How long the probe itself waits for its answer (a request that waits on it gives up sooner).</summary>
    internal static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The probe: ClearFuncs.ping answers its load back. The marker tells it apart in a master's log.</summary>
    internal static readonly byte[] ProbePayload = ClearEnvelope.Encode([new("cmd", "ping"), new("saltapi_probe", true)]);

    [LoggerMessage(Level = LogLevel.Debug, Message = "the master answers requests again")]
    private static partial void LogReady(ILogger log);

    [LoggerMessage(Level = LogLevel.Debug, Message = "the master did not answer its probe ({Error}); requests are not sent meanwhile")]
    private static partial void LogNotReady(ILogger log, string error);

    // A failed probe's result when the transport is closed; the pause before another probe after one failed.
    private const long Disposed = -2;
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(20);

    private readonly Lock gate = new();

    // The transport's Drops when the master last answered; -1 while unknown.
    private long readyDrops = -1;
    private Task<long>? probe;
    private bool everReady;

    /// <summary>The fast path: the transport's drop count the master was found ready at, or -1 when its state is unknown.</summary>
    public long ReadyDrops()
    {
        var ready = Volatile.Read(ref readyDrops);
        return ready >= 0 && ready == transport.Drops ? ready : -1;
    }

    /// <summary>The master's state is unknown from now on (its bus went away).</summary>
    public void Unknown() => Volatile.Write(ref readyDrops, -1);

    /// <summary>
    /// Waits (at most <see cref="RequestChannel.NoConnectionWait"/>, or <paramref name="budget"/> when shorter) for
    /// the master to answer a probe; the drop count it answered at.
    /// </summary>
    /// <exception cref="MasterGoneException">No answer in time, or the probe failed: the request is not sent.</exception>
    /// <exception cref="RequestTimeoutException">The request's own time (its timeout times its tries) ended first.</exception>
    public async Task<long> WaitAsync(TimeSpan budget, CancellationToken cancellationToken)
    {
        var wait = budget < RequestChannel.NoConnectionWait ? budget : RequestChannel.NoConnectionWait;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            Task<long> p;
            lock (gate)
            {
                if (ReadyDrops() is var ready and >= 0)
                {
                    return ready;
                }

                Volatile.Write(ref readyDrops, -1);
                if (probe is null || probe.IsCompleted)
                {
                    probe = ProbeAsync();
                }

                p = probe;
            }

            // A millisecond more: a timer may fire a little early, and a request gives up no sooner than NoConnectionWait.
            var left = wait - Stopwatch.GetElapsedTime(started) + TimeSpan.FromMilliseconds(1);
            long drops;
            try
            {
                drops = left > TimeSpan.Zero ? await p.WaitAsync(left, cancellationToken).ConfigureAwait(false) : throw new TimeoutException();
            }
            catch (TimeoutException) when (Stopwatch.GetElapsedTime(started) < wait)
            {
                continue; // the timer fired early (it may, by more than a millisecond): wait out the rest
            }
            catch (TimeoutException)
            {
                throw budget <= RequestChannel.NoConnectionWait ? new RequestTimeoutException() : new MasterGoneException();
            }

            if (drops >= 0)
            {
                return drops;
            }

            ObjectDisposedException.ThrowIf(drops == Disposed, this);

            // That probe failed (made before a connection came, or one dropped): another, while this request has time.
            await Task.Delay(RetryPause, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the probe; the drop count the master answered at, or -1.</summary>
    private async Task<long> ProbeAsync()
    {
        // Off the caller's lock: a transport that fails at once must not complete the probe inside it.
        await Task.Yield();
        var drops = transport.Drops;
        try
        {
            await transport.SendAsync(ProbePayload, ProbeTimeout, 1, drops, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RequestTimeoutException or MasterGoneException or ObjectDisposedException)
        {
            LogNotReady(log, e.Message);
            return e is ObjectDisposedException ? Disposed : -1;
        }

        lock (gate)
        {
            // Any answer (even an error) comes from a worker: the master serves requests. A drop since: unknown again.
            if (transport.Drops != drops)
            {
                return -1;
            }

            Volatile.Write(ref readyDrops, drops);
            if (everReady)
            {
                LogReady(log);
            }

            everReady = true;
            return drops;
        }
    }
}

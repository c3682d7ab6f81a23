using System.Diagnostics;

namespace SaltApi.Client.Request;

/// <summary>One request in a transport (ZeroMQ or TCP), from the caller's send to its reply: its payload, its deadlines, its reply.</summary>
internal sealed class PendingRequest(byte[] payload, TimeSpan timeout, int tries, long drops)
{
    /// <summary><see cref="RequestChannel.NoConnectionWait"/> in Stopwatch ticks.</summary>
    public static readonly long NoConnectionTicks = Ticks(RequestChannel.NoConnectionWait);

    public byte[] Payload { get; } = payload;

    public TimeSpan Timeout { get; } = timeout;

    public int Tries { get; } = tries;

    public int Attempt { get; set; }

    /// <summary>When the request was made (a Stopwatch timestamp): unsent for want of a connection, it fails after <see cref="RequestChannel.NoConnectionWait"/>.</summary>
    public long Queued { get; } = Stopwatch.GetTimestamp();

    /// <summary>ZeroMQ: the master's running file existed when the request was made.</summary>
    public bool MasterFileSeen { get; init; }

    /// <summary>The transport's drop count the request may be sent at (see <see cref="IRequestTransport.SendAsync"/>).</summary>
    public long Drops { get; } = drops;

    /// <summary>ZeroMQ: the current attempt's socket was connected at some time: the request may have reached the master.</summary>
    public bool Reached { get; set; }

    /// <summary>Sent: when its reply is no longer waited for (at least one attempt's time after its sending).</summary>
    public long Deadline { get; set; }

    /// <summary>DEALER: the request's id in its envelope, while it waits for its reply.</summary>
    public uint Id { get; set; }

    /// <summary>
    /// When the request gives up: its timeout times its tries, as long as Salt's client waits over all its tries (the
    /// DEALER counts from when its thread took it). Not sent yet (no connection), it waits for one until then; sent,
    /// it waits for its reply until then (and at least one attempt's time), never sent again. Deliberate difference
    /// from Salt, whose client sends it again after each attempt's timeout (a publish that reached a congested
    /// master runs twice): a master that stalls for longer than one attempt still answers the one request sent.
    /// </summary>
    public long LastDeadline { get; set; } = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Math.Max(1, tries) * Stopwatch.Frequency);

    public TaskCompletionSource<byte[]> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// Fails every request given (the master went away with them, or the transport closed); how many were still waiting.
    /// </summary>
    public static int FailAll(IEnumerable<PendingRequest> requests, Func<Exception> error)
    {
        var failed = 0;
        foreach (var r in requests)
        {
            if (r.Reply.TrySetException(error()))
            {
                failed++;
            }
        }

        return failed;
    }

    /// <summary>
    /// A connection dropped since the request was made (<paramref name="drops"/>: the transport's count now), so the
    /// master may be back, not yet answering: it fails, unsent.
    /// </summary>
    public bool Stale(long drops) => Drops != drops && Reply.TrySetException(new MasterGoneException());

    /// <summary>The caller's wait for the reply; <paramref name="cancellationToken"/> cancels it.</summary>
    public async Task<byte[]> ReplyAsync(CancellationToken cancellationToken)
    {
        using (cancellationToken.CanBeCanceled ? cancellationToken.Register(static r => ((PendingRequest)r!).Reply.TrySetCanceled(), this) : default)
        {
            return await Reply.Task.ConfigureAwait(false);
        }
    }
}

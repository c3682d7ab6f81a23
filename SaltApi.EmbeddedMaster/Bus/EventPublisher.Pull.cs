using System.Buffers;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SaltApi.Protocol.Events;

namespace SaltApi.EmbeddedMaster.Bus;

/// <summary>
/// The pull side of the bus: <c>master_event_pull.ipc</c>, where other processes fire events (salt-call's
/// event.send, our client layer), each connection read on a thread of its own and its frames republished.
/// </summary>
internal sealed partial class EventPublisher
{
    private async Task AcceptPullAsync(Socket listener)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket conn;
            try
            {
                conn = await listener.AcceptAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            if (Interlocked.Increment(ref pullConnections) > maxReaders)
            {
                Interlocked.Decrement(ref pullConnections);
                conn.Dispose();
                continue;
            }

            // A thread per firer's connection (bounded as the readers are), reading as the bytes arrive: an
            // asynchronous receive would resume in the thread pool's queue, behind the stream writers there.
            new Thread(() =>
            {
                try
                {
                    PullLoop(conn);
                }
                finally
                {
                    Interlocked.Decrement(ref pullConnections);
                    conn.Dispose();
                }
            })
            {
                IsBackground = true,
                Name = "salt-master event pull",
            }.Start();
        }
    }

    // Reads frames off one firer's connection and republishes each one's bytes unchanged. Stopping closes
    // the connection (DisposeAsync), which ends the blocking receive.
    private void PullLoop(Socket conn)
    {
        using var closeOnStop = stop.Token.UnsafeRegister(static c => ((Socket)c!).Dispose(), conn);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var start = 0;
        var end = 0;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                    else
                    {
                        // One frame larger than the buffer: grow (EventFrame refuses a frame past its bound first).
                        var grown = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        Buffer.BlockCopy(buffer, 0, grown, 0, end);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = grown;
                    }
                }

                var n = conn.Receive(buffer.AsSpan(end), SocketFlags.None);
                if (n == 0)
                {
                    return;
                }

                end += n;
                var seq = new ReadOnlySequence<byte>(buffer, start, end - start);
                while (true)
                {
                    var before = seq;
                    BusEvent? evt;
                    try
                    {
                        if (!EventFrame.TryRead(ref seq, out evt))
                        {
                            break;
                        }
                    }
                    catch (Exception e) when (e is SaltApi.Protocol.Msgpack.SaltProtocolException or ArgumentException or InvalidOperationException or OverflowException)
                    {
                        log.LogWarning("event bus: dropping a firer that sent bytes that are not an event frame: {Error}", e.Message);
                        return;
                    }

                    var raw = before.Slice(0, before.Length - seq.Length);
                    if (evt is null)
                    {
                        continue; // not an event (no body): Salt logs and drops it
                    }

                    // The old 4-byte length prefix is not what 3006 readers expect: re-frame those.
                    var first = raw.FirstSpan[0];
                    var isMap = first is >= 0x80 and <= 0x8f or 0xde or 0xdf;
                    Publish(isMap ? raw.ToArray() : raw.Slice(4).ToArray());
                }

                start = end - (int)seq.Length;
                if (start == end)
                {
                    start = end = 0;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

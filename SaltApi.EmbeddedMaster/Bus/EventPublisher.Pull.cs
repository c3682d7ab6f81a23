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

    // Reads frames off one firer's connection and republishes each event's frame unchanged (without the 4-byte length
    // prefix of older Salt, which 3006 readers do not expect). Stopping closes the connection (DisposeAsync), which ends
    // the blocking receive.
    private void PullLoop(Socket conn)
    {
        using var closeOnStop = stop.Token.UnsafeRegister(static c => ((Socket)c!).Dispose(), conn);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            EventFrameReader.Read(conn, buffer, frame =>
            {
                // Not an event (no body): Salt logs and drops it.
                if (EventFrame.Decode(frame) is not null)
                {
                    Publish(frame.ToArray());
                }
            });
        }
        catch (Exception e) when (e is SaltApi.Protocol.Msgpack.SaltProtocolException or ArgumentException or InvalidOperationException or OverflowException)
        {
            log.LogWarning("event bus: dropping a firer that sent bytes that are not an event frame: {Error}", e.Message);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            // The buffer rented (one grown for a large frame is left to the GC).
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

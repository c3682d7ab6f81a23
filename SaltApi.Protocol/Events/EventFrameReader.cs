using System.Buffers;
using System.Net.Sockets;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Protocol.Events;

/// <summary>
/// Reads bus frames off one stream connection as the bytes arrive, for both ends of the bus (a reader of
/// <c>master_event_pub.ipc</c>, the master's <c>master_event_pull.ipc</c>): a blocking receive, so it runs on a thread
/// of its own, and closing the socket ends it. One buffer, grown to hold a frame of up to <see cref="EventFrame.MaxFrameBytes"/>.
/// </summary>
public static class EventFrameReader
{
    /// <summary>
    /// Calls <paramref name="onFrame"/> with each whole frame (<see cref="EventFrame.TryReadFrame"/>; valid only during the
    /// call), and <paramref name="afterReceive"/> after the frames of each receive, until the peer closes. Returns the
    /// (possibly grown) buffer, for the next connection. Throws <see cref="SaltProtocolException"/> for bytes that can
    /// never be a frame.
    /// </summary>
    public static byte[] Read(Socket socket, byte[] buffer, Action<ReadOnlySequence<byte>> onFrame, Action? afterReceive = null)
    {
        var start = 0;
        var end = 0;
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
                    // One frame larger than the buffer: grow, bounded by the largest frame we accept.
                    if (buffer.Length >= EventFrame.MaxFrameBytes + 4)
                    {
                        throw new SaltProtocolException("event frame larger than the bound");
                    }

                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, EventFrame.MaxFrameBytes + 4));
                }
            }

            var n = socket.Receive(buffer.AsSpan(end), SocketFlags.None);
            if (n == 0)
            {
                return buffer;
            }

            end += n;
            var seq = new ReadOnlySequence<byte>(buffer, start, end - start);
            while (EventFrame.TryReadFrame(ref seq, out var frame))
            {
                onFrame(frame);
            }

            afterReceive?.Invoke();
            start = end - (int)seq.Length;
            if (start == end)
            {
                start = end = 0;
            }
        }
    }
}

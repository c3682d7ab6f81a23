using System.Net.Sockets;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Protocol.Channel;

/// <summary>
/// Reads Salt's TCP transport from one connection, for both sides of the wire: msgpack frames back to back,
/// found with a <see cref="MsgpackScanner"/> over one growing buffer (each byte scanned once, a frame bounded by
/// <c>maxMessageBytes</c> before it is buffered further). Returns when the peer closes the connection; a frame
/// that breaks the framing throws <see cref="SaltProtocolException"/>.
/// </summary>
public static class TcpFrameReader
{
    private const int BufferBytes = 64 * 1024;

    /// <summary>Calls <paramref name="onFrame"/> with each whole frame (valid only during the call) until the connection ends.</summary>
    public static async Task ReadAsync(Socket socket, long maxMessageBytes, Action<ReadOnlyMemory<byte>> onFrame, CancellationToken ct)
    {
        var limit = (int)Math.Min(maxMessageBytes + 16, Array.MaxLength);
        var buf = new byte[BufferBytes];
        int start = 0, end = 0;
        var scanner = new MsgpackScanner(maxMessageBytes);
        while (true)
        {
            if (end == buf.Length)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(buf, start, buf, 0, end - start);
                    end -= start;
                    start = 0;
                }
                else if (buf.Length < limit)
                {
                    Array.Resize(ref buf, (int)Math.Min(buf.Length * 2L, limit));
                }
                else
                {
                    throw new SaltProtocolException($"message larger than {maxMessageBytes} bytes");
                }
            }

            var n = await socket.ReceiveAsync(buf.AsMemory(end), SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            end += n;
            int len;
            while (start < end && (len = scanner.Scan(buf.AsSpan(start, end - start))) > 0)
            {
                onFrame(buf.AsMemory(start, len));
                start += len;
            }

            if (start == end)
            {
                start = end = 0;
                if (buf.Length > 16 * BufferBytes)
                {
                    buf = new byte[BufferBytes];
                }
            }
        }
    }
}

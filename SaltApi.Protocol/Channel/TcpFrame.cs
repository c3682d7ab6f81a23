using System.Buffers;
using MessagePack;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Protocol.Channel;

/// <summary>
/// One message of Salt's TCP transport (salt/transport/frame.py frame_msg): the msgpack map
/// <c>{"head": {"mid": N, ...}, "body": payload}</c>, sent back to back with no length prefix. The request
/// channel's body is the same clear payload as over ZeroMQ; the reply carries the request's head back.
/// </summary>
public static class TcpFrame
{
    /// <summary>frame_msg(body, header={"mid": mid}) with the body already packed.</summary>
    public static void Write(IBufferWriter<byte> output, long mid, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new MessagePackWriter(output);
        w.WriteMapHeader(2);
        w.Write("head");
        w.WriteMapHeader(1);
        w.Write("mid");
        w.Write(mid);
        w.Write("body");
        w.WriteRaw(body);
        w.Flush();
    }

    /// <summary>frame_msg(body, header=head) with the head (a packed map) and the body already packed: a reply.</summary>
    public static void WriteReply(IBufferWriter<byte> output, ReadOnlySpan<byte> head, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new MessagePackWriter(output);
        w.WriteMapHeader(2);
        w.Write("head");
        w.WriteRaw(head);
        w.Write("body");
        w.WriteRaw(body);
        w.Flush();
    }

    /// <summary>
    /// Splits one complete message (as <see cref="MsgpackScanner"/> delimits it) into its packed head, the head's
    /// <c>mid</c> (null when absent or not an integer) and its packed body. Keys other than head and body are ignored.
    /// </summary>
    /// <exception cref="SaltProtocolException">Not a map with a head map and a body.</exception>
    public static (ReadOnlyMemory<byte> Head, long? Mid, ReadOnlyMemory<byte> Body) Read(ReadOnlyMemory<byte> message)
    {
        try
        {
            var r = new MessagePackReader(message);
            if (r.NextMessagePackType != MessagePackType.Map)
            {
                throw new SaltProtocolException("a TCP message must be a map");
            }

            var n = r.ReadMapHeader();
            ReadOnlyMemory<byte>? head = null;
            ReadOnlyMemory<byte>? body = null;
            long? mid = null;
            for (var i = 0; i < n; i++)
            {
                var key = KeyOf(ref r);
                var start = (int)r.Consumed;
                if (key == "head" && r.NextMessagePackType == MessagePackType.Map)
                {
                    mid = Mid(ref r);
                    head = message[start..(int)r.Consumed];
                }
                else
                {
                    r.Skip();
                    if (key == "body")
                    {
                        body = message[start..(int)r.Consumed];
                    }
                }
            }

            if (head is null || body is null)
            {
                throw new SaltProtocolException("a TCP message needs a head map and a body");
            }

            return (head.Value, mid, body.Value);
        }
        catch (MessagePackSerializationException e)
        {
            throw new SaltProtocolException("malformed TCP message", e);
        }
        catch (EndOfStreamException e)
        {
            throw new SaltProtocolException("truncated TCP message", e);
        }
        catch (OverflowException e)
        {
            throw new SaltProtocolException("a TCP message's mid is out of range", e);
        }
    }

    /// <summary>Reads a map key: its text when a string or bytes, else null (a key of another type is skipped).</summary>
    private static string? KeyOf(ref MessagePackReader r)
    {
        switch (r.NextMessagePackType)
        {
            case MessagePackType.Binary:
                return r.ReadBytes() is { } b ? System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, b) : null;
            case MessagePackType.String:
                return r.ReadString();
            default:
                r.Skip();
                return null;
        }
    }

    private static long? Mid(ref MessagePackReader r)
    {
        long? mid = null;
        var n = r.ReadMapHeader();
        for (var i = 0; i < n; i++)
        {
            var key = KeyOf(ref r);
            if (key == "mid" && r.NextMessagePackType == MessagePackType.Integer)
            {
                mid = r.ReadInt64();
            }
            else
            {
                r.Skip();
            }
        }

        return mid;
    }
}

using System.Buffers.Binary;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Protocol.Channel;

/// <summary>
/// Finds where each msgpack value ends in a byte stream of values sent back to back (Salt's TCP transport:
/// no length prefix, the reader runs a streaming unpacker). Resumable: bytes are scanned once, as they
/// arrive; the value's size and nesting are bounded before any of it is buffered further.
/// </summary>
public sealed class MsgpackScanner(long maxBytes, int maxDepth = SaltMsgpack.MaxDepth)
{
    // Items still to read in each open container (a map counts keys and values).
    private readonly long[] remaining = new long[maxDepth + 1];
    private int depth;

    /// <summary>Bytes of the current value scanned so far.</summary>
    public int Scanned { get; private set; }

    /// <summary>Forgets the current value (after it was taken, or on a new connection).</summary>
    public void Reset()
    {
        depth = 0;
        Scanned = 0;
    }

    /// <summary>
    /// Scans on from <see cref="Scanned"/> in <paramref name="value"/> (the bytes of the current value received so
    /// far). Returns the length of the complete value, or 0 when more bytes are needed.
    /// </summary>
    /// <exception cref="SaltProtocolException">Not msgpack, too deep, or larger than the bound.</exception>
    public int Scan(ReadOnlySpan<byte> value)
    {
        var pos = Scanned;
        while (pos < value.Length)
        {
            if (!Token(value[pos..], out var size, out var items))
            {
                break;
            }

            if (pos + size > maxBytes)
            {
                throw new SaltProtocolException($"message larger than {maxBytes} bytes");
            }

            if (pos + size > value.Length)
            {
                break;
            }

            pos += (int)size;
            if (items > 0)
            {
                if (depth >= maxDepth)
                {
                    throw new SaltProtocolException("message nested too deep");
                }

                remaining[depth++] = items;
                continue;
            }

            // A whole value: close the containers it completes.
            while (depth > 0 && --remaining[depth - 1] == 0)
            {
                depth--;
            }

            if (depth == 0)
            {
                Reset();
                return pos;
            }
        }

        if (pos > maxBytes)
        {
            throw new SaltProtocolException($"message larger than {maxBytes} bytes");
        }

        Scanned = pos;
        return 0;
    }

    /// <summary>One token's size (its header and payload) and, for a non-empty array or map, its item count. False: header incomplete.</summary>
    private static bool Token(ReadOnlySpan<byte> s, out long size, out long items)
    {
        items = 0;
        var b = s[0];
        switch (b)
        {
            case <= 0x7f or >= 0xe0 or 0xc0 or 0xc2 or 0xc3:
                size = 1;
                return true;
            case <= 0x8f:
                size = 1;
                items = 2L * (b & 0x0f);
                return true;
            case <= 0x9f:
                size = 1;
                items = b & 0x0f;
                return true;
            case <= 0xbf:
                size = 1 + (b & 0x1f);
                return true;
            case 0xc1:
                throw new SaltProtocolException("invalid msgpack byte 0xc1");
            case 0xc4 or 0xd9:
                return Sized(s, 1, 0, out size);
            case 0xc5 or 0xda:
                return Sized(s, 2, 0, out size);
            case 0xc6 or 0xdb:
                return Sized(s, 4, 0, out size);
            case 0xc7:
                return Sized(s, 1, 1, out size);
            case 0xc8:
                return Sized(s, 2, 1, out size);
            case 0xc9:
                return Sized(s, 4, 1, out size);
            case 0xca or 0xce or 0xd2:
                size = 5;
                return true;
            case 0xcb or 0xcf or 0xd3:
                size = 9;
                return true;
            case 0xcc or 0xd0:
                size = 2;
                return true;
            case 0xcd or 0xd1:
                size = 3;
                return true;
            case 0xd4:
                size = 3;
                return true;
            case 0xd5:
                size = 4;
                return true;
            case 0xd6:
                size = 6;
                return true;
            case 0xd7:
                size = 10;
                return true;
            case 0xd8:
                size = 18;
                return true;
            case 0xdc or 0xdd or 0xde or 0xdf:
                var wide = b is 0xdd or 0xdf;
                var header = wide ? 5 : 3;
                size = header;
                if (s.Length < header)
                {
                    return false;
                }

                long n = wide ? BinaryPrimitives.ReadUInt32BigEndian(s[1..]) : BinaryPrimitives.ReadUInt16BigEndian(s[1..]);
                items = b is 0xde or 0xdf ? 2 * n : n;
                return true;
            default:
                throw new SaltProtocolException($"invalid msgpack byte 0x{b:x2}");
        }
    }

    // A str/bin/ext: 1 type byte, a big-endian length of lengthBytes, extra bytes (ext type), then the payload.
    private static bool Sized(ReadOnlySpan<byte> s, int lengthBytes, int extra, out long size)
    {
        size = 1 + lengthBytes + extra;
        if (s.Length < 1 + lengthBytes)
        {
            return false;
        }

        long n = lengthBytes switch
        {
            1 => s[1],
            2 => BinaryPrimitives.ReadUInt16BigEndian(s[1..]),
            _ => BinaryPrimitives.ReadUInt32BigEndian(s[1..]),
        };
        size += n;
        return true;
    }
}

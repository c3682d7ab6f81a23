using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using MessagePack;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Protocol.Events;

/// <summary>One event read from or written to the master bus.</summary>
/// <param name="Tag">The event tag, e.g. <c>salt/job/&lt;jid&gt;/ret/&lt;id&gt;</c>.</param>
/// <param name="Data">The data map.</param>
public sealed record BusEvent(string Tag, OrderedDictionary<string, object?> Data);

/// <summary>
/// The bus frame (spec/02 §2–3): <c>{"head": {}, "body": bin(tag + "\n\n" + msgpack(data))}</c>,
/// back to back on the stream. Older Salt put a 4-byte big-endian length before each frame; both read.
/// </summary>
public static class EventFrame
{
    private static readonly byte[] Separator = "\n\n"u8.ToArray();

    /// <summary>The largest frame we accept from the bus (Salt's max_event_size default is 1 MiB; leave room).</summary>
    public const int MaxFrameBytes = 64 * 1024 * 1024;

    /// <summary>Encodes a whole frame as a Python firer does (<c>_stamp</c> added when missing).</summary>
    public static byte[] Encode(string tag, IEnumerable<KeyValuePair<string, object?>> data, bool addStamp = true)
    {
        if (string.IsNullOrEmpty(tag) || tag.Contains("\n\n", StringComparison.Ordinal))
        {
            throw new ArgumentException("an event tag must be non-empty and free of blank lines", nameof(tag));
        }

        var body = SaltMsgpack.RentScratch();
        var frame = SaltMsgpack.RentScratch();
        try
        {
            body.Write(Encoding.UTF8.GetBytes(tag));
            body.Write(Separator);
            if (data is OrderedDictionary<string, object?> od && (od.Comparer == EqualityComparer<string>.Default || od.Comparer == StringComparer.Ordinal))
            {
                // Written straight from the caller's map (speed): the same bytes as the copy below, where
                // _stamp, when added, comes last.
                var stamp = addStamp && !od.ContainsKey("_stamp");
                var bw = new MessagePackWriter(body);
                bw.WriteMapHeader(od.Count + (stamp ? 1 : 0));
                foreach (var (k, v) in od)
                {
                    bw.Write(k);
                    SaltMsgpack.WriteValue(ref bw, v, 1);
                }

                if (stamp)
                {
                    bw.Write("_stamp");
                    bw.Write(Stamp(DateTime.UtcNow));
                }

                bw.Flush();
            }
            else
            {
                var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (k, v) in data)
                {
                    map[k] = v;
                }

                if (addStamp && !map.ContainsKey("_stamp"))
                {
                    map["_stamp"] = Stamp(DateTime.UtcNow);
                }

                SaltMsgpack.Serialize(body, map, MsgpackDialect.Bus);
            }

            var w = new MessagePackWriter(frame);
            w.WriteMapHeader(2);
            w.Write("head");
            w.WriteMapHeader(0);
            w.Write("body");
            w.Write(body.WrittenSpan);
            w.Flush();
            return frame.WrittenSpan.ToArray();
        }
        finally
        {
            SaltMsgpack.ReturnScratch(frame);
            SaltMsgpack.ReturnScratch(body);
        }
    }

    /// <summary>Python's <c>datetime.utcnow().isoformat()</c>: microseconds dropped when zero.</summary>
    /// <remarks>Built from the invariant "s" format and the microseconds: a custom format string is parsed on every call.</remarks>
    public static string Stamp(DateTime utc)
    {
        Span<char> text = stackalloc char[26];
        utc.TryFormat(text, out _, "s", System.Globalization.CultureInfo.InvariantCulture);
        var micros = (int)(utc.Ticks % TimeSpan.TicksPerSecond / 10);
        if (micros == 0)
        {
            return new string(text[..19]);
        }

        text[19] = '.';
        micros.TryFormat(text[20..], out _, "D6", System.Globalization.CultureInfo.InvariantCulture);
        return new string(text);
    }

    /// <summary>
    /// Takes one whole frame off the front of <paramref name="buffer"/>. Returns false when more bytes
    /// are needed. Throws <see cref="SaltProtocolException"/> for bytes that can never be a frame.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out BusEvent? evt)
    {
        evt = null;
        if (!TryReadFrame(ref buffer, out var frame))
        {
            return false;
        }

        evt = Decode(frame);
        return true;
    }

    /// <summary>
    /// As <see cref="TryRead"/>, without decoding: <paramref name="frame"/> is the frame's bytes (a slice of
    /// <paramref name="buffer"/>, valid as long as its memory is), for <see cref="TryParse"/>.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.IsEmpty)
        {
            return false;
        }

        var first = buffer.FirstSpan[0];
        var isMap = first is >= 0x80 and <= 0x8f or 0xde or 0xdf;
        if (isMap)
        {
            var reader = new MessagePackReader(buffer);
            try
            {
                reader.Skip();
            }
            catch (EndOfStreamException)
            {
                if (buffer.Length > MaxFrameBytes)
                {
                    throw new SaltProtocolException("event frame larger than the bound");
                }

                return false;
            }
            catch (Exception e) when (e is MessagePackSerializationException or ArgumentException or OverflowException or InvalidOperationException)
            {
                // A header announcing 2^31 bytes or more lands here: never an untyped error from the bus.
                throw new SaltProtocolException("malformed event frame", e);
            }

            frame = buffer.Slice(0, reader.Consumed);
            buffer = buffer.Slice(reader.Consumed);
        }
        else
        {
            // Length-prefixed form: 4-byte big-endian size, then the msgpack frame.
            if (buffer.Length < 4)
            {
                return false;
            }

            Span<byte> len = stackalloc byte[4];
            buffer.Slice(0, 4).CopyTo(len);
            var size = BinaryPrimitives.ReadUInt32BigEndian(len);
            if (size > MaxFrameBytes)
            {
                throw new SaltProtocolException("event frame larger than the bound");
            }

            if (buffer.Length < 4 + size)
            {
                return false;
            }

            frame = buffer.Slice(4, size);
            buffer = buffer.Slice(4 + size);
        }

        return true;
    }

    /// <summary>Decodes one whole frame. Frames that are not events yield null (skipped, as Salt does).</summary>
    public static BusEvent? Decode(ReadOnlySequence<byte> frame)
    {
        if (!TryParse(frame, out var raw))
        {
            return null;
        }

        var tag = raw.Tag;
        var data = raw.DecodeData();
        return data is null ? null : new BusEvent(tag, data);
    }

    /// <summary>
    /// Reads a frame's envelope and finds its tag, leaving the data undecoded (the bus reader decodes it
    /// only when someone wants the event). False for frames that are not events (skipped, as Salt does).
    /// Throws <see cref="SaltProtocolException"/> for a malformed envelope; a malformed data map is only
    /// found by <see cref="RawBusEvent.DecodeData"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySequence<byte> frame, out RawBusEvent raw)
    {
        raw = default;
        ReadOnlySequence<byte>? body = null;
        try
        {
            var r = new MessagePackReader(frame);
            if (r.NextMessagePackType != MessagePackType.Map)
            {
                return false;
            }

            var count = r.ReadMapHeader();
            for (var i = 0; i < count; i++)
            {
                var key = r.NextMessagePackType == MessagePackType.String ? r.ReadString() : null;
                if (key == "body" && r.NextMessagePackType is MessagePackType.Binary or MessagePackType.String)
                {
                    // A slice of the frame, not a copy.
                    body = r.NextMessagePackType == MessagePackType.Binary ? r.ReadBytes() : r.ReadStringSequence();
                }
                else
                {
                    r.Skip();
                }
            }
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or ArgumentException or OverflowException or InvalidOperationException)
        {
            throw new SaltProtocolException("malformed event frame", e);
        }

        if (body is not { } b)
        {
            return false;
        }

        var sep = IndexOfSeparator(b);
        if (sep <= 0)
        {
            return false;
        }

        raw = new RawBusEvent(b, sep);
        return true;
    }

    private static long IndexOfSeparator(ReadOnlySequence<byte> body) =>
        body.IsSingleSegment ? body.FirstSpan.IndexOf(Separator) : body.ToArray().AsSpan().IndexOf(Separator);

    internal static ReadOnlySpan<byte> SeparatorBytes => Separator;
}

/// <summary>
/// An event frame whose envelope is read but whose data is not decoded yet (<see cref="EventFrame.TryParse"/>).
/// Only valid while the bytes it was parsed from are.
/// </summary>
public readonly struct RawBusEvent
{
    private readonly ReadOnlySequence<byte> body;
    private readonly long separator;

    internal RawBusEvent(ReadOnlySequence<byte> body, long separator)
    {
        this.body = body;
        this.separator = separator;
    }

    /// <summary>The tag's UTF-8 bytes.</summary>
    public ReadOnlySequence<byte> TagBytes => body.Slice(0, separator);

    /// <summary>The tag (decoded as <see cref="EventFrame.Decode"/> does: invalid UTF-8 replaced).</summary>
    public string Tag => Encoding.UTF8.GetString(TagBytes);

    /// <summary>
    /// Decodes the data map; null when it is not a map (the event is skipped, as <see cref="EventFrame.Decode"/> does).
    /// Throws <see cref="SaltProtocolException"/> for malformed msgpack.
    /// </summary>
    public OrderedDictionary<string, object?>? DecodeData() =>
        SaltMsgpack.Deserialize(body.Slice(separator + EventFrame.SeparatorBytes.Length)) as OrderedDictionary<string, object?>;
}

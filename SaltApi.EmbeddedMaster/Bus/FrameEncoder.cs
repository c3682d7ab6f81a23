using System.Buffers;
using System.Globalization;
using System.Text;
using MessagePack;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.EmbeddedMaster.Bus;

/// <summary>
/// Event frames byte for byte as <see cref="EventFrame.Encode"/> writes them, for data that already holds its
/// <c>_stamp</c>. For speed (the master fires several events per publish): the data map is written as it is,
/// not copied, into buffers reused per thread, so a frame costs one allocation, its own bytes.
/// </summary>
internal static class FrameEncoder
{
    // A buffer that grew past this for one large event is not kept for the thread.
    private const int KeepBytes = 256 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? bodyScratch;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? frameScratch;

    /// <summary>
    /// <see cref="EventFrame.Stamp"/> (Python's <c>isoformat()</c>), from the invariant "s" format and the microseconds,
    /// for speed: a custom DateTime format string is parsed on every call.
    /// </summary>
    public static string Stamp(DateTime utc)
    {
        Span<char> text = stackalloc char[26];
        utc.TryFormat(text, out _, "s", CultureInfo.InvariantCulture);
        var micros = (int)(utc.Ticks % TimeSpan.TicksPerSecond / 10);
        if (micros == 0)
        {
            return new string(text[..19]);
        }

        text[19] = '.';
        micros.TryFormat(text[20..], out _, "D6", CultureInfo.InvariantCulture);
        return new string(text);
    }

    /// <summary>One frame: <c>{"head": {}, "body": tag + "\n\n" + msgpack(data)}</c>.</summary>
    public static byte[] Encode(string tag, OrderedDictionary<string, object?> data)
    {
        var frame = frameScratch ??= new ArrayBufferWriter<byte>(1024);
        frame.ResetWrittenCount();
        Append(frame, tag, data);
        var bytes = frame.WrittenSpan.ToArray();
        if (frame.Capacity > KeepBytes)
        {
            frameScratch = null;
        }

        return bytes;
    }

    /// <summary>Appends one frame to <paramref name="output"/> (several frames in a row are what a bus reader reads).</summary>
    public static void Append(IBufferWriter<byte> output, string tag, OrderedDictionary<string, object?> data)
    {
        if (string.IsNullOrEmpty(tag) || tag.Contains("\n\n", StringComparison.Ordinal))
        {
            throw new ArgumentException("an event tag must be non-empty and free of blank lines", nameof(tag));
        }

        var body = bodyScratch ??= new ArrayBufferWriter<byte>(1024);
        body.ResetWrittenCount();
        Encoding.UTF8.GetBytes(tag, body);
        body.Write("\n\n"u8);
        SaltMsgpack.Serialize(body, data, MsgpackDialect.Bus);

        var w = new MessagePackWriter(output);
        w.WriteMapHeader(2);
        w.Write("head");
        w.WriteMapHeader(0);
        w.Write("body");
        w.Write(body.WrittenSpan);
        w.Flush();
        if (body.Capacity > KeepBytes)
        {
            bodyScratch = null;
        }
    }
}

using System.Buffers;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.Plugins.RestTornadoCompat.Events;

/// <summary>How saltnado writes an event: the listener's <c>{"data": …, "tag": …}</c> as JSON.</summary>
internal static class EventText
{
    /// <summary>The first chunk of every <c>/events</c> stream.</summary>
    public const string Preamble = "retry: 400\n";

    /// <summary>The event as the EventListener hands it out.</summary>
    public static string Json(SaltEvent e) => SaltJson.Serialize(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
    {
        ["data"] = e.Data,
        ["tag"] = e.Tag,
    });

    /// <summary>
    /// One SSE record: <c>tag: …\n</c> then <c>data: {json}\n\n</c>. Deliberate difference: CR, LF and NUL
    /// in a tag (any minion can fire one) are written escaped (<c>\r</c>, <c>\n</c>, <c>\u0000</c>, a
    /// backslash doubled), so that no tag forges fields or events in the stream; the data line carries it exactly.
    /// </summary>
    public static void AppendSse(StringBuilder sb, SaltEvent e)
    {
        AppendTag(sb.Append("tag: "), e.Tag);
        sb.Append('\n').Append("data: ").Append(Json(e)).Append("\n\n");
    }

    /// <summary>
    /// One SSE record, as <see cref="AppendSse"/> formats it, as UTF-8 straight into the response's pipe: the JSON
    /// is the event's own <see cref="SaltEvent.Utf8Json"/>, serialized once for every subscriber.
    /// </summary>
    public static void WriteSse(IBufferWriter<byte> writer, SaltEvent e)
    {
        // One span for the whole record: every GetSpan/Advance on Kestrel's response pipe takes its lock.
        var tag = e.Tag.AsSpan().IndexOfAny('\r', '\n', '\0') < 0 ? e.Tag : AppendTag(new StringBuilder(e.Tag.Length + 16), e.Tag).ToString();
        var json = e.Utf8Json().Span;
        var size = Encoding.UTF8.GetMaxByteCount(tag.Length) + json.Length + 14;
        if (size > 16 * 1024)
        {
            // A large event: in pieces, each spanning as many of the pipe's blocks as it needs.
            writer.Write("tag: "u8);
            Encoding.UTF8.GetBytes(tag, writer);
            writer.Write("\ndata: "u8);
            writer.Write(json);
            writer.Write("\n\n"u8);
            return;
        }

        var span = writer.GetSpan(size);
        "tag: "u8.CopyTo(span);
        var n = 5 + Encoding.UTF8.GetBytes(tag, span[5..]);
        "\ndata: "u8.CopyTo(span[n..]);
        n += 7;
        json.CopyTo(span[n..]);
        n += json.Length;
        "\n\n"u8.CopyTo(span[n..]);
        writer.Advance(n + 2);
    }

    private static StringBuilder AppendTag(StringBuilder sb, string tag)
    {
        var escape = tag.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0;
        foreach (var c in tag)
        {
            _ = c switch
            {
                '\r' => sb.Append("\\r"),
                '\n' => sb.Append("\\n"),
                '\0' => sb.Append("\\u0000"),
                '\\' when escape => sb.Append("\\\\"),
                _ => sb.Append(c),
            };
        }

        return sb;
    }
}

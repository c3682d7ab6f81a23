using System.Buffers;
using System.Text;

namespace SaltApi.Abstractions.Events;

/// <summary>
/// An event as one server-sent-events record, <c>tag: …\n</c> then <c>data: {json}\n\n</c>, as rest_cherrypy's and
/// saltnado's <c>/events</c> write it (spec/05 §6.9); the JSON is the event's <see cref="SaltEvent.Utf8Json"/>.
/// </summary>
public static class SseRecord
{
    /// <summary>
    /// The most bytes of records to write before a flush. Each stream's pipe may hold this much of Kestrel's pinned
    /// blocks (100 lagging <c>/events</c> streams: ~30 MB). Measured against 32 KB (2026-12-02): 32 KB cut that to
    /// ~14 MB, but seven times as many socket sends left the readers behind the bus, and 83 of 100 subscribers of
    /// the soak were dropped for falling <c>event_queue</c> events behind within 90 s (none at 256 KB).
    /// </summary>
    public const int MaxBatchBytes = 256 * 1024;

    /// <summary>
    /// The tag on one line. Deliberate difference: a tag may hold CR/LF (any minion can fire one), and written raw it
    /// would end the line and forge fields or whole events in every stream. CR, LF and NUL are written as JSON writes
    /// them (<c>\r</c>, <c>\n</c>, <c>\u0000</c>), and then a backslash is doubled so that the escape stays
    /// unambiguous; the JSON <c>data:</c> line carries the exact tag.
    /// </summary>
    public static StringBuilder AppendTag(StringBuilder sb, string tag)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(tag);
        if (tag.AsSpan().IndexOfAny('\r', '\n', '\0') < 0)
        {
            return sb.Append(tag);
        }

        foreach (var c in tag)
        {
            _ = c switch
            {
                '\r' => sb.Append("\\r"),
                '\n' => sb.Append("\\n"),
                '\0' => sb.Append("\\u0000"),
                '\\' => sb.Append("\\\\"),
                _ => sb.Append(c),
            };
        }

        return sb;
    }

    /// <summary>
    /// Writes one record as UTF-8 straight into a response's pipe: the JSON is serialized once for every subscriber,
    /// so a stream costs a copy per event, not a serialization and not an allocation.
    /// </summary>
    public static void Write(IBufferWriter<byte> writer, SaltEvent e)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(e);

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
}

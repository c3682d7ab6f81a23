using System.Buffers;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.Plugins.RestCherrypyCompat.Events;

/// <summary>rest_cherrypy's <c>/events</c> wire format (spec/05 §6.9).</summary>
internal static class Sse
{
    /// <summary>The first chunk of every stream: no blank line after it.</summary>
    public const string Preamble = "retry: 400\n";

    /// <summary>The <c>{"data": …, "tag": …}</c> map Salt serializes for an event.</summary>
    public static OrderedDictionary<string, object?> Envelope(SaltEvent e) => new(StringComparer.Ordinal)
    {
        ["data"] = e.Data,
        ["tag"] = e.Tag,
    };

    /// <summary>One event: <c>tag: …\n</c> then <c>data: {json}\n\n</c>.</summary>
    public static void Append(StringBuilder sb, SaltEvent e) =>
        AppendTag(sb.Append("tag: "), e.Tag).Append('\n')
          .Append("data: ").Append(SaltJson.Serialize(Envelope(e))).Append("\n\n");

    /// <summary>
    /// The tag on one line. A tag may hold CR/LF (any minion can fire one): written raw it would end
    /// the line and forge fields or whole events in every stream. CR, LF and NUL are written as JSON
    /// writes them (<c>\r</c>, <c>\n</c>, <c>\u0000</c>), and a backslash doubled so that the escape
    /// stays unambiguous; the JSON <c>data:</c> line carries the exact tag.
    /// </summary>
    internal static StringBuilder AppendTag(StringBuilder sb, string tag)
    {
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
    /// Writes one event, as <see cref="Append"/> formats it, as UTF-8 straight into the response's pipe: the JSON
    /// is the event's own <see cref="SaltEvent.Utf8Json"/>, serialized once for every subscriber, so a stream
    /// costs a copy per event, not a serialization and not an allocation.
    /// </summary>
    public static void WriteEvent(IBufferWriter<byte> writer, SaltEvent e)
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

    /// <summary>One event as text.</summary>
    public static string Format(SaltEvent e)
    {
        var sb = new StringBuilder(256);
        Append(sb, e);
        return sb.ToString();
    }

    /// <summary>The raw <c>/ws</c> text frame: <c>data: {json}\n\n</c>.</summary>
    public static string WebSocketFrame(SaltEvent e) => Encoding.UTF8.GetString(WebSocketFrameUtf8(e, out _).Span);

    /// <summary>
    /// The raw <c>/ws</c> text frame as UTF-8 in a buffer rented from <see cref="ArrayPool{T}.Shared"/> (give
    /// <paramref name="rented"/> back once sent): a copy of the event's shared JSON, no serialization per subscriber.
    /// </summary>
    public static ReadOnlyMemory<byte> WebSocketFrameUtf8(SaltEvent e, out byte[] rented)
    {
        var json = e.Utf8Json().Span;
        var length = json.Length + 8;
        rented = ArrayPool<byte>.Shared.Rent(length);
        "data: "u8.CopyTo(rented);
        json.CopyTo(rented.AsSpan(6));
        "\n\n"u8.CopyTo(rented.AsSpan(6 + json.Length));
        return rented.AsMemory(0, length);
    }
}

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
    /// Writes the builder's text as UTF-8 straight from its chunks (a surrogate pair split between two chunks is
    /// kept whole by the encoder), with no string of it: the /events loop formats each event in one small builder
    /// and writes it to the response's pipe.
    /// </summary>
    public static void Write(IBufferWriter<byte> writer, StringBuilder sb, Encoder utf8)
    {
        foreach (var chunk in sb.GetChunks())
        {
            utf8.Convert(chunk.Span, writer, flush: false, out _, out _);
        }

        utf8.Convert(ReadOnlySpan<char>.Empty, writer, flush: true, out _, out _);
    }

    /// <summary>
    /// The builder for the next batch: this one emptied, or a new one when it grew past one chunk, because
    /// <see cref="StringBuilder.Clear"/> on a builder of several chunks allocates one array of its whole capacity
    /// (512 KB for a full batch, again on the large object heap).
    /// </summary>
    public static StringBuilder Reuse(StringBuilder sb) => sb.Capacity > 8000 ? new StringBuilder(4096) : sb.Clear();

    /// <summary>One event as text.</summary>
    public static string Format(SaltEvent e)
    {
        var sb = new StringBuilder(256);
        Append(sb, e);
        return sb.ToString();
    }

    /// <summary>The raw <c>/ws</c> text frame: <c>data: {json}\n\n</c>.</summary>
    public static string WebSocketFrame(SaltEvent e) => "data: " + SaltJson.Serialize(Envelope(e)) + "\n\n";
}

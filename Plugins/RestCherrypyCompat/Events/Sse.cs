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

    /// <summary>One event as <see cref="SseRecord"/> writes it: <c>tag: …\n</c> then <c>data: {json}\n\n</c>.</summary>
    public static void Append(StringBuilder sb, SaltEvent e) =>
        SseRecord.AppendTag(sb.Append("tag: "), e.Tag).Append('\n')
          .Append("data: ").Append(SaltJson.Serialize(Envelope(e))).Append("\n\n");

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

using System.Buffers;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.NetapiKit.Events;

/// <summary>
/// How rest_cherrypy and saltnado write an event (spec/05 §6.9): the listener's <c>{"data": …, "tag": …}</c> as
/// JSON, in an SSE record on <c>/events</c> and alone in a WebSocket text frame on <c>/ws</c>.
/// </summary>
public static class EventText
{
    /// <summary>The first chunk of every <c>/events</c> stream: no blank line after it.</summary>
    public const string Preamble = "retry: 400\n";

    /// <summary>The event as the EventListener hands it out.</summary>
    public static string Json(SaltEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return SaltJson.Serialize(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["data"] = e.Data,
            ["tag"] = e.Tag,
        });
    }

    /// <summary>
    /// One SSE record as <see cref="SseRecord"/> writes it: <c>tag: …\n</c> then <c>data: {json}\n\n</c>, the tag
    /// escaped so that it forges no field or event (<see cref="SseRecord.AppendTag"/>).
    /// </summary>
    public static void AppendSse(StringBuilder sb, SaltEvent e)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(e);
        SseRecord.AppendTag(sb.Append("tag: "), e.Tag);
        sb.Append('\n').Append("data: ").Append(Json(e)).Append("\n\n");
    }

    /// <summary>One SSE record as text.</summary>
    public static string Format(SaltEvent e)
    {
        var sb = new StringBuilder(256);
        AppendSse(sb, e);
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
        ArgumentNullException.ThrowIfNull(e);
        var json = e.Utf8Json().Span;
        var length = json.Length + 8;
        rented = ArrayPool<byte>.Shared.Rent(length);
        "data: "u8.CopyTo(rented);
        json.CopyTo(rented.AsSpan(6));
        "\n\n"u8.CopyTo(rented.AsSpan(6 + json.Length));
        return rented.AsMemory(0, length);
    }
}

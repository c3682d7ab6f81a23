using System.Buffers;
using SaltApi.Abstractions.Events;

namespace SaltApi.NetapiKit.Events;

/// <summary>
/// How rest_cherrypy and saltnado write an event (spec/05 §6.9): the listener's <c>{"data": …, "tag": …}</c> as
/// JSON, in an SSE record on <c>/events</c> and alone in a WebSocket text frame on <c>/ws</c>.
/// </summary>
public static class EventText
{
    /// <summary>The first chunk of every <c>/events</c> stream: no blank line after it.</summary>
    public const string Preamble = "retry: 400\n";

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

using System.Net.WebSockets;
using System.Text;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary>
/// What <c>/ws</c> reads from the client: whole messages of at most <see cref="MaxMessage"/> bytes,
/// each answered as Salt's <c>SynchronizingWebsocket.received_message</c> does.
/// </summary>
internal static class WebSocketMessages
{
    /// <summary>The largest client message; a bigger one closes the socket with 1009.</summary>
    public const int MaxMessage = 64 * 1024;

    /// <summary>
    /// Reads messages until the client closes or sends one too big. <paramref name="onReady"/> runs on
    /// <c>websocket client ready</c>, <paramref name="answer"/> after every message. Throws only
    /// <see cref="WebSocketException"/> (a broken stream) or <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task ReceiveAsync(WebSocket ws, Action onReady, Func<Task> answer, CancellationToken ct)
    {
        var buffer = new byte[MaxMessage];
        while (ws.State == WebSocketState.Open)
        {
            var count = 0;
            ValueWebSocketReceiveResult r;
            do
            {
                if (count >= buffer.Length)
                {
                    await ws.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", ct);
                    return;
                }

                r = await ws.ReceiveAsync(buffer.AsMemory(count), ct);
                count += r.Count;
            }
            while (!r.EndOfMessage);

            if (r.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            // As Salt's SynchronizingWebsocket.received_message.
            if (Encoding.UTF8.GetString(buffer, 0, count) == "websocket client ready")
            {
                onReady();
            }

            await answer();
        }
    }
}

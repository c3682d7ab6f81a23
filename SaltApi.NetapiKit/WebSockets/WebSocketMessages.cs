using System.Net.WebSockets;
using System.Text;

namespace SaltApi.NetapiKit.WebSockets;

/// <summary>
/// What a WebSocket of Salt's event stream reads from the client: whole messages of at most
/// <see cref="MaxMessage"/> bytes, of which only <see cref="ClientReady"/> means something.
/// </summary>
public static class WebSocketMessages
{
    /// <summary>rest_cherrypy's largest client message; a bigger one closes the socket with 1009.</summary>
    public const int MaxMessage = 64 * 1024;

    /// <summary>The message that starts the stream (rest_cherrypy's and saltnado's <c>websocket client ready</c>).</summary>
    public const string ClientReady = "websocket client ready";

    /// <summary>
    /// Reads messages until the client closes or sends one past <paramref name="maxMessage"/> bytes. <paramref name="onReady"/> runs on
    /// <see cref="ClientReady"/>, <paramref name="answer"/> (when given) after every message. Throws only
    /// <see cref="WebSocketException"/> (a broken stream) or <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task ReceiveAsync(WebSocket ws, int maxMessage, Action onReady, Func<Task>? answer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(onReady);
        var buffer = new byte[maxMessage];
        while (ws.State == WebSocketState.Open)
        {
            var count = 0;
            ValueWebSocketReceiveResult r;
            do
            {
                if (count >= buffer.Length)
                {
                    await ws.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", ct).ConfigureAwait(false);
                    return;
                }

                r = await ws.ReceiveAsync(buffer.AsMemory(count), ct).ConfigureAwait(false);
                count += r.Count;
            }
            while (!r.EndOfMessage);

            if (r.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            // As Salt's SynchronizingWebsocket.received_message and saltnado's on_message.
            if (Encoding.UTF8.GetString(buffer, 0, count) == ClientReady)
            {
                onReady();
            }

            if (answer is not null)
            {
                await answer().ConfigureAwait(false);
            }
        }
    }
}

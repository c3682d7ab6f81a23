using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Events;
using SaltApi.NetapiKit.Tokens;

namespace SaltApi.NetapiKit.WebSockets;

/// <summary>
/// An accepted WebSocket of Salt's event stream (rest_cherrypy's <c>/ws</c>, saltnado's <c>/all_events</c> and
/// <c>/formatted_events</c>): one text message per event, what the bus hands over together in one write to the
/// connection, and messages of the module's own (<see cref="SendAsync"/>) in turn with them.
/// </summary>
/// <param name="ws">The WebSocket, just accepted on <paramref name="context"/>.</param>
/// <param name="context">The request (its connection batches the writes, as the kit's module host serves WebSockets).</param>
/// <param name="dataLine">An event as rest_cherrypy's frame, <c>data: {json}\n\n</c>; otherwise saltnado's, the JSON alone.</param>
public sealed class EventSocket(WebSocket ws, HttpContext context, bool dataLine) : IDisposable
{
    // The most events of one batch.
    private const int MaxBatch = 1024;

    private readonly BatchingStream? connection = (context.Features.Get<IHttpUpgradeFeature>() as BatchingUpgradeFeature)?.Stream;
    private readonly SemaphoreSlim sendLock = new(1, 1);

    /// <summary>Sends one text message, never in the middle of a batch of events.</summary>
    public async Task SendAsync(string text, CancellationToken ct)
    {
        await sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
        }
        finally
        {
            sendLock.Release();
        }
    }

    /// <summary>
    /// Once <paramref name="ready"/> completes, subscribes (then runs <paramref name="listening"/>) and sends every event,
    /// or with a <paramref name="view"/> SaltGUI's view of it (SaltInfo.process; <paramref name="grains"/> gets the
    /// view's <see cref="SaltInfo.GrainsTarget"/>). Returns when the token is no longer valid: checked with the client
    /// layer before each batch, its expiry before each event.
    /// </summary>
    public async Task PumpAsync(IEventStream events, Task ready, SaltToken token, TokenCheck tokens, SaltInfo? view, Action<string>? grains, Action? listening, CancellationToken ct)
    {
        await ready.WaitAsync(ct).ConfigureAwait(false);
        using var sub = events.Subscribe();
        listening?.Invoke();
        var reader = sub.Reader;
        while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            if (await tokens.ValidateAsync(token.Token, ct).ConfigureAwait(false) is null)
            {
                return;
            }

            await sendLock.WaitAsync(ct).ConfigureAwait(false);
            connection?.BeginBatch();
            try
            {
                for (var sent = 0; sent < MaxBatch && reader.TryRead(out var e); sent++)
                {
                    if (token.Expire <= tokens.Now)
                    {
                        return;
                    }

                    if (view is null)
                    {
                        await SendEventAsync(e, ct).ConfigureAwait(false);
                        continue;
                    }

                    foreach (var message in view.Process(e))
                    {
                        await ws.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
                    }

                    if (view.GrainsTarget is { } tgt)
                    {
                        grains?.Invoke(tgt);
                    }
                }
            }
            finally
            {
                try
                {
                    if (connection is not null)
                    {
                        await connection.EndBatchAsync(ct).ConfigureAwait(false);
                    }
                }
                catch (IOException)
                {
                    // The connection is gone: the receive side ends the socket.
                }
                finally
                {
                    sendLock.Release();
                }
            }
        }
    }

    // The event's JSON as every subscriber shares it (serialized once), alone or copied into the data line.
    private async Task SendEventAsync(SaltEvent e, CancellationToken ct)
    {
        if (!dataLine)
        {
            await ws.SendAsync(e.Utf8Json(), WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
            return;
        }

        var frame = EventText.WebSocketFrameUtf8(e, out var rented);
        try
        {
            await ws.SendAsync(frame, WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => sendLock.Dispose();
}

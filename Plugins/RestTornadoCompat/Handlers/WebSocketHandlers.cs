using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Events;
using SaltApi.NetapiKit.Lowstates;
using SaltApi.NetapiKit.WebSockets;
using SaltApi.Plugins.RestTornadoCompat.Http;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>saltnado_websockets: AllEventsHandler (<c>/all_events/&lt;token&gt;</c>) and FormattedEventsHandler.</summary>
internal sealed partial class StreamHandlers
{
    /// <summary>The largest client message; a bigger one closes the socket with 1009.</summary>
    public const int MaxMessage = 4 * 1024;

    public Task AllEventsAsync(TornadoRequest r) => WebSocketAsync(r, formatted: false);

    public Task FormattedEventsAsync(TornadoRequest r) => WebSocketAsync(r, formatted: true);

    private async Task WebSocketAsync(TornadoRequest r, bool formatted)
    {
        // As AllEventsHandler.get: 401 unless the token in the path is live.
        var token = await app.SessionAsync(r, r.PathArg);
        if (token is null)
        {
            await TornadoResponse.ErrorAsync(r.Ctx, 401);
            return;
        }

        if (!r.Ctx.WebSockets.IsWebSocketRequest)
        {
            await TornadoResponse.WriteAsync(r.Ctx, 400, "Can \"Upgrade\" only to \"WebSocket\".", TornadoResponse.Html);
            return;
        }

        if (!OriginAllowed(r))
        {
            await TornadoResponse.WriteAsync(r.Ctx, 403, "Cross origin websockets not allowed", TornadoResponse.Html);
            return;
        }

        using var ws = await r.Ctx.WebSockets.AcceptWebSocketAsync();
        using var socket = new EventSocket(ws, r.Ctx, dataLine: false);

        // The client's messages are read until it goes; the events are sent until it goes, the token
        // expires or the daemon stops. Cancelling a pending receive aborts a WebSocket, so the close
        // handshake comes first and the read loop is cancelled only if the client does not answer it.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(r.Aborted);
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(r.Aborted, app.Stopping);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // on_message: "websocket client ready" starts the stream (once); anything else is ignored.
        var receive = WebSocketMessages.ReceiveAsync(ws, MaxMessage, () => ready.TrySetResult(), null, reading.Token);
        var ct = sending.Token;

        // Deliberate difference: Salt streams on after the token expires; the stream ends with it.
        // FormattedEventsHandler asks every minion for its grains first. Deliberate difference: Salt runs it as a
        // blocking `local` call before it listens, so the returns pass unseen and its view starts empty; here the
        // stream listens first and the job is local_async, its returns read as events.
        var view = formatted ? new SaltInfo(SaltInfoFlavor.RestTornado) : null;
        var pump = socket.PumpAsync(app.Events, ready.Task, token, app.Tokens, view, tgt => Grains(tgt, "list"), formatted ? () => Grains("*", "glob") : null, ct);
        await Task.WhenAny(receive, pump);
        await sending.CancelAsync();
        await EndAsync(pump);
        await CloseAsync(ws, app.Stopping.IsCancellationRequested);
        if (await Task.WhenAny(receive, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)) != receive)
        {
            await reading.CancelAsync();
        }

        await EndAsync(receive);

        void Grains(string tgt, string tgtType) => GrainsItems.Start(app.Client, token.Token, tgt, tgtType, e => app.Logger.LogDebug("formatted_events: grains.items not started: {Message}", e.InnerException?.Message), ct);
    }

    // Awaits a loop that has ended or is ending; its ways of ending are not errors of the request.
    private async Task EndAsync(Task loop)
    {
        try
        {
            await loop;
        }
        catch (EventStreamOverflowException)
        {
            app.Logger.LogWarning("a websocket client fell behind the bus and was disconnected");
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or SaltApiException)
        {
        }
    }

    // check_origin: with cors_origin, the origin must be allowed; otherwise Tornado's same-host rule.
    private bool OriginAllowed(TornadoRequest r)
    {
        var origin = r.Ctx.Request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        if (app.Options.CorsOrigins.Count > 0)
        {
            return app.AllowedOrigin(origin) is not null;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && string.Equals(uri.Authority, r.Ctx.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    // Starts the close handshake (the read loop reads the client's answer): 1000, or 1001 "going away"
    // when the daemon stops.
    private static async Task CloseAsync(WebSocket ws, bool stopping)
    {
        if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await ws.CloseOutputAsync(stopping ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.NormalClosure, stopping ? "salt-api stopping" : "", bound.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException)
            {
            }
        }
    }
}

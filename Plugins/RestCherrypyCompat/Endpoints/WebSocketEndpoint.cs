using System.Net.WebSockets;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Events;
using SaltApi.NetapiKit.Lowstates;
using SaltApi.NetapiKit.Tokens;
using SaltApi.NetapiKit.WebSockets;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary><c>/ws[/token]</c>: rest_cherrypy's WebsocketEndpoint, raw events or SaltGUI's <c>?format_events</c>.</summary>
internal sealed class WebSocketEndpoint(CherrypyServices api)
{
    public async Task ServeAsync(Call call)
    {
        SaltToken? token = null;
        if (call.Arg("token") is { } inPath)
        {
            token = await api.Sessions.ValidateAsync(inPath, call.Aborted);
        }

        var byCookie = false;
        if (token is null)
        {
            token = await api.Sessions.ValidateAsync(TokenCheck.Read(call.Request, emptyHeaderIsAbsent: true), call.Aborted);
            byCookie = TokenCheck.ReadsCookie(call.Request, emptyHeaderIsAbsent: true);
        }

        if (token is null || !api.ApiAclAllows(token.Name, call.Ctx))
        {
            throw new HttpError(401);
        }

        // Deliberate difference: as rest_tornado's check_origin, a WebSocket the session cookie authenticates is
        // refused from a page of another origin than the API's own or one of cors_origin (a browser sends the
        // cookie with any page's upgrade); Salt's /ws takes it from any Origin (see CookieFromOtherOrigin).
        if (byCookie && api.CookieFromOtherOrigin(call.Request))
        {
            throw new HttpError(403, "Cross origin websockets not allowed");
        }

        if (!call.Ctx.WebSockets.IsWebSocketRequest)
        {
            throw new HttpError(400, "WebSocket upgrade required");
        }

        var view = call.Request.Query.ContainsKey("format_events") ? new SaltInfo(SaltInfoFlavor.RestCherrypy) : null;
        using var ws = await call.Ctx.WebSockets.AcceptWebSocketAsync();
        using var socket = new EventSocket(ws, call.Ctx, dataLine: true);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(call.Aborted);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receive = WebSocketMessages.ReceiveAsync(ws, WebSocketMessages.MaxMessage, () => ready.TrySetResult(), () => socket.SendAsync("server received message", stop.Token), stop.Token);

        // ?format_events: SaltGUI's view of the event (SaltInfo.process), with a grains.items job for new minions.
        var pump = socket.PumpAsync(api.Events, ready.Task, token, api.Sessions, view, tgt => GrainsItems.Start(api.Client, token.Token, tgt, "list", null, stop.Token), null, stop.Token);
        try
        {
            await Task.WhenAny(receive, pump);
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(receive, pump);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or EventStreamOverflowException or SaltApiException)
            {
            }

            if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                try
                {
                    using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", closing.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or WebSocketException)
                {
                }
            }
        }
    }
}

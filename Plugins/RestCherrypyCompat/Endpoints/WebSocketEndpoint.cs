using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Events;
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

        if (token is null || !api.ApiAclAllows(token.Name, ClientAddress.Of(call.Ctx)))
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

        var formatEvents = call.Request.Query.ContainsKey("format_events");
        using var ws = await call.Ctx.WebSockets.AcceptWebSocketAsync();
        var connection = (call.Ctx.Features.Get<IHttpUpgradeFeature>() as BatchingUpgradeFeature)?.Stream;
        using var sendLock = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(call.Aborted);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task SendAsync(string text) => SendUtf8Async(Encoding.UTF8.GetBytes(text));

        async Task SendUtf8Async(ReadOnlyMemory<byte> utf8)
        {
            await sendLock.WaitAsync(stop.Token);
            try
            {
                await ws.SendAsync(utf8, WebSocketMessageType.Text, true, stop.Token);
            }
            finally
            {
                sendLock.Release();
            }
        }

        Task ReceiveAsync() => WebSocketMessages.ReceiveAsync(ws, WebSocketMessages.MaxMessage, () => ready.TrySetResult(), () => SendAsync("server received message"), stop.Token);

        async Task PumpAsync()
        {
            await ready.Task.WaitAsync(stop.Token);
            using var sub = api.Events.Subscribe();
            var info = formatEvents ? new SaltInfo(SaltInfoFlavor.RestCherrypy) : null;
            var reader = sub.Reader;
            while (await reader.WaitToReadAsync(stop.Token))
            {
                // As /events: the stream ends when the token is no longer valid (expired, logged out in any
                // module, deleted on the master), checked with the client layer before each batch of what is queued.
                if (token.Expire <= api.Sessions.Now || await api.Sessions.ValidateAsync(token.Token, stop.Token) is null)
                {
                    return;
                }

                if (info is null)
                {
                    // What is queued (the bus hands events over together), one message per event as Salt sends
                    // them, under one hold of the send lock and in one write to the connection.
                    await sendLock.WaitAsync(stop.Token);
                    try
                    {
                        connection?.BeginBatch();
                        for (var sent = 0; sent < 1024 && reader.TryRead(out var e); sent++)
                        {
                            if (token.Expire <= api.Sessions.Now)
                            {
                                return;
                            }

                            // The frame is a copy of the event's JSON, serialized once for every subscriber.
                            var frame = EventText.WebSocketFrameUtf8(e, out var rented);
                            try
                            {
                                await ws.SendAsync(frame, WebSocketMessageType.Text, true, stop.Token);
                            }
                            finally
                            {
                                ArrayPool<byte>.Shared.Return(rented);
                            }
                        }
                    }
                    finally
                    {
                        try
                        {
                            if (connection is not null)
                            {
                                await connection.EndBatchAsync(stop.Token);
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

                    continue;
                }

                for (var sent = 0; sent < 1024 && reader.TryRead(out var e); sent++)
                {
                    if (token.Expire <= api.Sessions.Now)
                    {
                        return;
                    }

                    await FormattedAsync(info, e);
                }
            }
        }

        // ?format_events: SaltGUI's view of the event (SaltInfo.process).
        async Task FormattedAsync(SaltInfo info, SaltEvent e)
        {
            foreach (var frame in info.Process(e))
            {
                await SendAsync(frame);
            }

            if (info.GrainsTarget is { } tgt)
            {
                _ = api.Client.RunAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["client"] = "local_async",
                    ["tgt"] = tgt,
                    ["tgt_type"] = "list",
                    ["fun"] = "grains.items",
                    ["token"] = token.Token,
                }, stop.Token).ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }

        var receive = ReceiveAsync();
        var pump = PumpAsync();
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

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Events;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary><c>/events</c>: rest_cherrypy's Events, the event bus as Server-Sent Events.</summary>
internal sealed class EventsEndpoint(CherrypyServices api)
{
    /// <summary>The token of <c>?token=</c>, <c>?salt_token=</c> or the session, when live and allowed by api_acl.</summary>
    private async Task<SaltToken?> EventTokenAsync(Call call)
    {
        var q = call.Request.Query;
        var inQuery = new[] { q["token"].ToString(), q["salt_token"].ToString() }.FirstOrDefault(s => s.Length > 0);
        var token = await api.Sessions.ValidateAsync(inQuery ?? TokenCheck.Read(call.Request, emptyHeaderIsAbsent: true), call.Aborted);

        // Deliberate difference: a stream that only the session cookie opens is refused from a page of another
        // origin (an EventSource with credentials would read the visitor's bus); see CookieFromOtherOrigin.
        if (token is not null && inQuery is null && api.CookieFromOtherOrigin(call.Request))
        {
            throw new HttpError(403, "Cross-origin request with a session cookie refused");
        }

        return token is not null && api.ApiAclAllows(token.Name, ClientAddress.Of(call.Ctx)) ? token : null;
    }

    public async Task StreamAsync(Call call)
    {
        var token = await EventTokenAsync(call) ?? throw new HttpError(401);
        var resp = call.Response;
        resp.StatusCode = 200;
        resp.ContentType = "text/event-stream;charset=utf-8";
        resp.Headers.CacheControl = "no-cache";
        resp.Headers.Connection = "keep-alive";
        if (HttpMethods.IsHead(call.Request.Method))
        {
            return;
        }

        // A quiet stream, or a reader that pauses, is not a slow client: no minimum response rate here
        // (a reader that falls too far behind is dropped by the event stream's own bound).
        if (call.Ctx.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        // Every event to every client: each stream has its own subscription (Salt issue #35798).
        using var sub = api.Events.Subscribe();
        await resp.WriteAsync(EventText.Preamble, call.Aborted);
        await resp.Body.FlushAsync(call.Aborted);
        // Each event is written straight into the response's pipe (pooled buffers) from the bytes every
        // subscriber shares (the event's JSON is serialized once, not once per stream); a batch is flushed once.
        var writer = resp.BodyWriter;
        var reader = sub.Reader;
        try
        {
            while (await reader.WaitToReadAsync(call.Aborted))
            {
                // As Events.GET's listen(): the stream ends when the token is no longer valid. Salt checks before
                // each next(stream); here before each batch of what is queued (at most SseRecord.MaxBatchBytes), the token lookup
                // being the dearest part of a delivery when 1,000 streams each take every event.
                if (token.Expire <= api.Sessions.Now || await api.Sessions.ValidateAsync(token.Token, call.Aborted) is null)
                {
                    return;
                }

                // Write what is queued, then flush once: streamed as it happens, no per-event sleep.
                var batched = 0;
                while (batched < SseRecord.MaxBatchBytes && reader.TryRead(out var e))
                {
                    SseRecord.Write(writer, e);
                    batched += e.Tag.Length + e.Utf8Json().Length;
                }

                if (batched > 0)
                {
                    await writer.FlushAsync(call.Aborted);
                }
            }
        }
        catch (EventStreamOverflowException)
        {
            api.Logger.LogWarning("an /events client fell behind the bus and was disconnected");
        }
        catch (SaltApiException e)
        {
            api.Logger.LogWarning("/events stream ended: {Message}", e.Message);
        }
    }
}

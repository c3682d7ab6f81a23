using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Client;
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

        return token is not null && api.ApiAclAllows(token.Name, call.Ctx) ? token : null;
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

        await SseStream.WriteAsync(resp, api.Events, token, api.Sessions, api.Logger, call.Aborted);
    }
}

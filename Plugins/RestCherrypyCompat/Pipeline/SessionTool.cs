using Microsoft.AspNetCore.Http;
using SaltApi.NetapiKit.Routing;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// rest_cherrypy's session tools: on resources with sessions the session id (the Salt token) is validated
/// and its cookie refreshed; <c>salt_auth_tool</c> then refuses (401) a resource that needs a session
/// without one. Event streams and WebSockets validate their own tokens.
/// </summary>
internal sealed class SessionTool(CherrypyServices api)
{
    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        var call = Call.Of(ctx);
        var route = call.Route!;
        if (route.Spec.Session is RouteSession.Optional or RouteSession.Required)
        {
            var session = await api.Sessions.ValidateAsync(TokenCheck.Read(ctx.Request, emptyHeaderIsAbsent: true), call.Aborted);

            // Deliberate difference: a request that only the session cookie authenticates is refused when its
            // Origin (or Referer) names another origin than the API's own or one of cors_origin, whatever its
            // method (see CherrypyServices.CookieFromOtherOrigin). /login takes credentials, not the session.
            if (session is not null && route.Resource != Resource.Login && api.CookieFromOtherOrigin(ctx.Request))
            {
                throw new HttpError(403, "Cross-origin request with a session cookie refused");
            }

            if (session is not null && !api.ApiAclAllows(session.Name, ctx))
            {
                throw new HttpError(401); // api_acl on every path, not only /login (see ApiAclAllows)
            }

            if (session is not null)
            {
                api.SetSessionCookie(ctx.Response, session);
            }

            call.Session = session;
        }

        if (route.Spec.Session == RouteSession.Required)
        {
            if (call.Session is null)
            {
                throw new HttpError(401);
            }

            ctx.Response.Headers.CacheControl = "private";
        }

        await next(ctx);
    }
}

using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Access;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestCherrypyCompat.Config;
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
    private CherrypyOptions Options => api.Options;

    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        var call = Call.Of(ctx);
        var r = call.Resource!.Resource;
        var method = ctx.Request.Method;
        if (Resources.HasSession(r, method) && r is not (Resource.Events or Resource.WebSocket))
        {
            var session = await api.Sessions.ValidateAsync(TokenCheck.Read(ctx.Request, emptyHeaderIsAbsent: true), call.Aborted);

            // Deliberate difference: a request that only the session cookie authenticates is refused when its
            // Origin (or Referer) names another origin than the API's own or one of cors_origin, whatever its
            // method (see CherrypyServices.CookieFromOtherOrigin). /login takes credentials, not the session.
            if (session is not null && r != Resource.Login && api.CookieFromOtherOrigin(ctx.Request))
            {
                throw new HttpError(403, "Cross-origin request with a session cookie refused");
            }

            if (session is not null && !api.ApiAclAllows(session.Name, ClientAddress.Of(ctx)))
            {
                throw new HttpError(401); // api_acl on every path, not only /login (see ApiAclAllows)
            }

            if (session is not null)
            {
                api.SetSessionCookie(ctx.Response, session);
            }

            call.Session = session;
        }

        if (NeedsSessionAuth(r, method, Options))
        {
            if (call.Session is null)
            {
                throw new HttpError(401);
            }

            ctx.Response.Headers.CacheControl = "private";
        }

        await next(ctx);
    }

    /// <summary>Whether salt_auth_tool refuses the resource without a session (401).</summary>
    internal static bool NeedsSessionAuth(Resource r, string method, CherrypyOptions options) => r switch
    {
        Resource.Root or Resource.Jobs => method == "POST" || r == Resource.Jobs,
        Resource.Logout or Resource.Minions => true,
        Resource.Hook => !options.WebhookDisableAuth,
        Resource.Stats => !options.StatsDisableAuth,
        _ => false,
    };
}

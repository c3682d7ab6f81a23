using Microsoft.AspNetCore.Http;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>As rest_cherrypy's salt_ip_verify_tool: with <c>authorized_ips</c> set, other addresses get 403 "Bad IP".</summary>
internal sealed class AuthorizedIps(CherrypyOptions options)
{
    public Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        if (!NetapiKit.Access.AuthorizedIps.Allows(options.AuthorizedIps, ctx))
        {
            throw new HttpError(403, "Bad IP");
        }

        return next(ctx);
    }
}

using Microsoft.AspNetCore.Http;
using SaltApi.Plugins.RestCherrypyCompat.Config;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>CORS headers for the origins of our <c>cors_origin</c> option, and the preflight on every path.</summary>
internal sealed class Cors(CherrypyOptions options)
{
    private bool AnyOrigin => options.CorsOrigins.Contains("*");

    public Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        AddCors(ctx);
        if (ctx.Request.Method == "OPTIONS")
        {
            // Deliberate difference: Salt answers the preflight with a 500 on every resource that has
            // sessions on (Salt issue #14058); we answer 200 everywhere.
            Preflight(ctx);
            return Task.CompletedTask;
        }

        return next(ctx);
    }

    private bool OriginAllowed(string origin) =>
        origin.Length > 0 && (AnyOrigin || options.CorsOrigins.Any(o => string.Equals(o.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)));

    // Deliberate difference: Salt reflects every Origin with credentials allowed; we send CORS
    // headers only for origins listed in our `cors_origin` option (none by default). With `*` the
    // answer is `Access-Control-Allow-Origin: *` without credentials, as the Fetch standard requires:
    // the Origin (`null` included) is never reflected, so no page can send the session cookie.
    private void AddCors(HttpContext ctx)
    {
        var origin = ctx.Request.Headers.Origin.ToString();
        if (!OriginAllowed(origin))
        {
            return;
        }

        var h = ctx.Response.Headers;
        h.AccessControlExposeHeaders = "X-Auth-Token, X-Salt-Version";
        if (AnyOrigin)
        {
            h.AccessControlAllowOrigin = "*";
            return;
        }

        h.AccessControlAllowOrigin = origin;
        h.AccessControlAllowCredentials = "true";
        h.Append("Vary", "Origin");
    }

    private void Preflight(HttpContext ctx)
    {
        var h = ctx.Response.Headers;
        var method = ctx.Request.Headers.AccessControlRequestMethod.ToString();
        if (OriginAllowed(ctx.Request.Headers.Origin.ToString()) && method is "GET" or "POST" or "HEAD")
        {
            h.AccessControlAllowMethods = "GET, POST";
            h.AccessControlAllowHeaders = "Content-Type, X-Auth-Token, X-Requested-With";
            h.AccessControlMaxAge = "1400";
        }

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/html";
        ctx.Response.ContentLength = 0;
    }
}

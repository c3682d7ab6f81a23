using Microsoft.AspNetCore.Http;
using SaltApi.Plugins.RestCherrypyCompat.Config;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// rest_cherrypy's <c>cors_tool</c>, on every resource: without our <c>cors_origin</c> option, Salt's headers
/// (any <c>Origin</c> reflected with credentials allowed); with it, CORS headers for the listed origins only. The
/// preflight is answered here on every path. What reflecting with credentials would open, a page of another origin
/// acting on the victim's <c>session_id</c> cookie, is refused by the session tool (<see cref="SessionTool"/>).
/// </summary>
internal sealed class Cors(CherrypyOptions options)
{
    private static readonly string[] SaltMethods = ["GET", "POST"];

    private bool AnyOrigin => options.CorsOrigins.Contains("*");

    private bool SaltCors => options.CorsOrigins.Count == 0;

    public Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        AddCors(ctx);
        if (ctx.Request.Method == "OPTIONS")
        {
            // Deliberate difference: Salt answers the preflight with a 500 on every resource that has
            // sessions on (Salt issue #14058), with the same CORS headers; we answer 200 everywhere.
            Preflight(ctx);
            return Task.CompletedTask;
        }

        return next(ctx);
    }

    private bool OriginAllowed(string origin) =>
        origin.Length > 0 && (AnyOrigin || options.CorsOrigins.Any(o => string.Equals(o.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)));

    private void AddCors(HttpContext ctx)
    {
        var origin = ctx.Request.Headers.Origin.ToString();
        var h = ctx.Response.Headers;
        if (SaltCors)
        {
            // As cors_tool: the Origin reflected (else *), credentials allowed, and Salt's Expose-Headers value.
            // A page of another origin gets answers to requests that carry the token themselves (X-Auth-Token);
            // one that only the session cookie authenticates is refused (403) in the session tool.
            h.AccessControlAllowOrigin = origin.Length > 0 ? origin : "*";
            h.AccessControlExposeHeaders = "GET, POST";
            h.AccessControlAllowCredentials = "true";
            if (origin.Length > 0)
            {
                h.Append("Vary", "Origin"); // the answer depends on it: no shared cache may hand it to another origin
            }

            return;
        }

        // Our cors_origin option: CORS headers only for the origins it lists. With `*` the answer is
        // `Access-Control-Allow-Origin: *` without credentials, as the Fetch standard requires: the Origin
        // (`null` included) is never reflected.
        if (!OriginAllowed(origin))
        {
            return;
        }

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
        var answer = SaltCors
            ? SaltMethods.Contains(method, StringComparer.Ordinal) // as cors_tool: `ac_method in ["GET", "POST"]`
            : OriginAllowed(ctx.Request.Headers.Origin.ToString()) && method is "GET" or "POST" or "HEAD";
        if (answer)
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

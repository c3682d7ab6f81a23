using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace SaltApi.Plugins.RestTornadoCompat.Http;

/// <summary>How Tornado's RequestHandler finishes a response: its error page, redirect and Etag.</summary>
internal static class TornadoResponse
{
    /// <summary>Tornado's default Content-Type, for pages and for text written without <c>serialize</c>.</summary>
    public const string Html = "text/html; charset=UTF-8";

    /// <summary>Python's reason phrases (http.client.responses) for the statuses we send.</summary>
    public static string Reason(int status) => status switch
    {
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    };

    /// <summary>As RequestHandler.send_error with write_error's default page (no traceback, even with debug).</summary>
    public static Task ErrorAsync(HttpContext ctx, int status)
    {
        var page = $"<html><title>{status}: {Reason(status)}</title><body>{status}: {Reason(status)}</body></html>";
        return WriteAsync(ctx, status, page, Html);
    }

    /// <summary>As RequestHandler.redirect: 302, <c>Location</c>, an empty body.</summary>
    public static Task RedirectAsync(HttpContext ctx, string location)
    {
        ctx.Response.Headers.Location = location;
        return WriteAsync(ctx, 302, "", Html);
    }

    /// <summary>
    /// Writes a whole answer. As RequestHandler.finish: a 200 to GET or HEAD carries an Etag (sha1 of the
    /// body) and is a 304 without a body when <c>If-None-Match</c> names it.
    /// </summary>
    public static async Task WriteAsync(HttpContext ctx, int status, string body, string contentType)
    {
        var resp = ctx.Response;
        var bytes = Encoding.UTF8.GetBytes(body);
        resp.StatusCode = status;
        resp.ContentType = contentType;
        var method = ctx.Request.Method;
        if (status == 200 && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)))
        {
            // Tornado's compute_etag: a cache validator, not a secret.
#pragma warning disable CA5350
            var etag = "\"" + Convert.ToHexStringLower(SHA1.HashData(bytes)) + "\"";
#pragma warning restore CA5350
            resp.Headers.ETag = etag;
            if (EtagMatches(ctx.Request.Headers.IfNoneMatch.ToString(), etag))
            {
                resp.StatusCode = 304;
                resp.Headers.ContentType = default;
                return;
            }
        }

        resp.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(method))
        {
            await resp.Body.WriteAsync(bytes, ctx.RequestAborted);
        }
    }

    // As RequestHandler.check_etag_header: "*" or any listed tag, weak or strong.
    private static bool EtagMatches(string ifNoneMatch, string etag) =>
        ifNoneMatch.Trim() == "*" || ifNoneMatch.Split(',').Select(p => p.Trim()).Any(tag => (tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag) == etag);
}

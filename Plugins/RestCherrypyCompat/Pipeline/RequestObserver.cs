using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// The outermost step: opens the request's <see cref="Call"/>, and when the request is over gives its
/// body budget back, counts it for <c>/stats</c> (CherryPy's cpstats). The access log is the contract's HttpFront.
/// </summary>
internal sealed class RequestObserver(CherrypyServices api)
{
    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        api.Stats.Begin();
        var call = new Call(ctx, api);
        ctx.Features.Set(call);
        try
        {
            await next(ctx);
        }
        finally
        {
            call.BodyLease?.Dispose();
            var elapsed = Stopwatch.GetElapsedTime(started);
            api.Stats.End(ctx.Request.ContentLength ?? 0, ctx.Response.ContentLength ?? 0, elapsed);
        }
    }

    /// <summary>
    /// The request path for logs: the token of <c>/ws/&lt;token&gt;</c> left out, the query never
    /// included (<c>?token=</c>), control characters escaped so that a path cannot forge a log line.
    /// </summary>
    internal static string LogPath(HttpRequest req)
    {
        const int MinTokenLength = 32;
        var path = req.Path.Value ?? "/";
        var ws = path.IndexOf("/ws/", StringComparison.Ordinal);
        path = ws >= 0 ? path[..(ws + 4)] + "***" : path;
        var sb = new StringBuilder(path.Length + 16);
        var hex = 0;
        foreach (var c in path)
        {
            _ = char.IsControl(c) ? sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)) : sb.Append(c);
            hex = char.IsAsciiHexDigit(c) ? hex + 1 : 0;
            if (hex == MinTokenLength)
            {
                // A token anywhere in a path (a client that put it in the wrong place): 32+ hex digits
                // (Salt's tokens are hex digests; jids have 20 digits) are left out.
                sb.Length -= MinTokenLength;
                sb.Append("***");
            }
            else if (hex > MinTokenLength)
            {
                sb.Length--;
            }
        }

        return sb.ToString();
    }
}

using System.Diagnostics;
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
}

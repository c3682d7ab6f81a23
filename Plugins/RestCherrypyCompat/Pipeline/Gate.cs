using Microsoft.AspNetCore.Http;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// CherryPy's worker pool (<see cref="RequestGate"/>): a POST body is read first, then a slot is taken
/// (503 when the queue is full). Event streams and WebSockets are not gated.
/// </summary>
internal sealed class Gate(CherrypyServices api)
{
    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        var call = Call.Of(ctx);
        var r = call.Resource!.Resource;
        var method = ctx.Request.Method;
        if (!Resources.Gated(r))
        {
            call.GenericErrorAsData = Resources.ErrorsAsData(r, method);
            await next(ctx);
            return;
        }

        if (HttpMethods.IsPost(method))
        {
            // The body is read before a slot is taken: a client that sends it slowly holds a connection,
            // never a slot of the gate (bounded by the body budget, BodyTimeout and Kestrel's data rate).
            call.Body = await call.ReadBodyAsync();
            call.Prefetched = true;
        }

        if (!await api.Gate.EnterAsync(call.Aborted))
        {
            throw new HttpError(503);
        }

        try
        {
            // From here the resource answers: its unexpected errors are data where its output is.
            call.GenericErrorAsData = Resources.ErrorsAsData(r, method);
            await next(ctx);
        }
        finally
        {
            api.Gate.Exit();
        }
    }
}

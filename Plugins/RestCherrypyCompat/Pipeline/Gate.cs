using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Hosting;
using SaltApi.NetapiKit.Routing;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// CherryPy's worker pool (<see cref="RequestGate"/>): a POST body is read first, then a slot is taken
/// (503 when the queue is full); a POST with credentials in its body takes a turn of the login throttle
/// instead (<see cref="AuthThrottle"/>). Event streams and WebSockets are not gated.
/// </summary>
internal sealed class Gate(CherrypyServices api)
{
    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        var call = Call.Of(ctx);
        var route = call.Route!.Spec;
        if (route.Admission == RouteAdmission.Stream)
        {
            call.GenericErrorAsData = route.Errors == RouteErrors.AsData;
            await next(ctx);
            return;
        }

        if (HttpMethods.IsPost(ctx.Request.Method))
        {
            // The body is read before a slot is taken: a client that sends it slowly holds a connection,
            // never a slot of the gate (bounded by the body budget, BodyTimeout and Kestrel's data rate).
            call.Body = await call.ReadBodyAsync();
            call.Prefetched = true;
        }

        if (route.Admission == RouteAdmission.Credentials)
        {
            await CheckCredentialsAsync(ctx, next, call);
            return;
        }

        if (!await api.Gate.EnterAsync(call.Aborted))
        {
            throw new HttpError(503);
        }

        try
        {
            // From here the resource answers: its unexpected errors are data where its output is.
            call.GenericErrorAsData = route.Errors == RouteErrors.AsData;
            await next(ctx);
        }
        finally
        {
            api.Gate.Exit();
        }
    }

    // Credentials in the body (/login, /token, /run, POST /keys): no request slot is held while the master
    // decides, since it holds a refusal through Salt's anti-timing delay (~1 s) and a flood of failed logins
    // held every slot. The login throttle bounds them instead, and slows an address whose logins fail.
    private async Task CheckCredentialsAsync(HttpContext ctx, RequestDelegate next, Call call)
    {
        using var attempt = await api.Logins.EnterAsync(ctx.Connection.RemoteIpAddress, call.Aborted) ?? throw new HttpError(503);
        call.GenericErrorAsData = call.Route!.Spec.Errors == RouteErrors.AsData;
        try
        {
            await next(ctx);
        }
        catch (Exception e) when (e is HttpError { Status: 401 } || (e is SaltApiException s && s.HttpStatus() == 401))
        {
            attempt.Failed();
            throw;
        }

        if (ctx.Response.StatusCode == 401)
        {
            attempt.Failed();
        }
        else if (ctx.Response.StatusCode == 200)
        {
            attempt.Succeeded();
        }
    }
}

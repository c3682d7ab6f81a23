using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Hosting;
using SaltApi.NetapiKit.Routing;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestTornadoCompat.Config;
using SaltApi.Plugins.RestTornadoCompat.Http;
using SaltApi.NetapiKit.Access;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>
/// saltnado's Application: every request walks BaseSaltAPIHandler's steps in Tornado's order (default
/// headers, the URL table, the method, <c>prepare</c>: Accept then the body) and then its handler.
/// </summary>
internal sealed class Saltnado : IDisposable
{
    // Tornado serves every request of its one loop at once; here at most thread_pool run and queue_size
    // wait (30 s), beyond that 503: memory stays bounded under any load.
    private readonly RequestGate gate;

    // /login and /run (credentials in the body) wait for the master's verdict here, never in the gate.
    private readonly AuthThrottle logins = new(128);
    private readonly RequestBodyBudget bodies;
    private readonly Routes routes;

    public Saltnado(TornadoOptions options, INetapiClient client, IEventStream events, ILogger logger, TimeProvider time, string? hashType, CancellationToken stopping = default)
    {
        Options = options;
        Stopping = stopping;
        Client = client;
        Events = events;
        Logger = logger;
        Tokens = new TokenCheck(client, time);
        gate = new RequestGate(options.Listener.ThreadPool, options.Listener.QueueSize, RequestBodyBudget.BodyTimeout);
        bodies = RequestBodyBudget.For(options.Listener.MaxRequestBodySize, 256, largeBodiesWait: true);
        routes = new Routes(Routes.For(options), new TornadoHandlers(new ApiHandlers(this), new StreamHandlers(this)), Routes.HexLength(hashType));
    }

    public TornadoOptions Options { get; }

    public INetapiClient Client { get; }

    public IEventStream Events { get; }

    public ILogger Logger { get; }

    public TokenCheck Tokens { get; }

    /// <summary>Cancelled when the daemon stops: open streams end then, so the drain waits only for requests.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>
    /// The live token, when api_acl allows its user from the client's address; otherwise null, answered as
    /// a token that is not valid. Deliberate difference: Salt's rest_tornado has no api_acl.
    /// </summary>
    public async Task<SaltToken?> SessionAsync(TornadoRequest r, string? token)
    {
        var found = await Tokens.ValidateAsync(token, r.Aborted);
        return found is not null && AclAllows(found.Name, r.Ctx) ? found : null;
    }

    /// <summary>api_acl (ours, as rest_cherrypy's): the user may call from the client's address; true without an ACL.</summary>
    public bool AclAllows(string? username, HttpContext ctx) => Options.ApiAcl?.Allows(username, ctx) ?? true;

    /// <summary>
    /// Deliberate difference: a state-changing request that only the session cookie authenticates is refused
    /// when its Origin (or Referer) names another origin than the API's own or one of <c>cors_origin</c>. A
    /// browser sends the cookie with a form or text/plain POST from any page of the same site; requests without
    /// those headers (curl, pepper, SDKs) and requests with X-Auth-Token are not concerned. Salt runs them.
    /// </summary>
    public bool ForeignCookie(TornadoRequest r) =>
        r.TokenFromCookie && CrossOrigin.IsStateChanging(r.Ctx.Request.Method) && CrossOrigin.IsForeign(r.Ctx.Request, Options.CorsOrigins);

    /// <summary>One request, start to end.</summary>
    public async Task InvokeAsync(HttpContext ctx)
    {
        try
        {
            await ServeAsync(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away while its body was read or it waited for a slot: nothing to answer.
        }
    }

    private async Task ServeAsync(HttpContext ctx)
    {
        SetDefaultHeaders(ctx);

        // Deliberate difference: authorized_ips (ours, rest_cherrypy's salt_ip_verify_tool), before anything else.
        if (!AuthorizedIps.Allows(Options.AuthorizedIps, ctx))
        {
            await TornadoResponse.ErrorAsync(ctx, 403);
            return;
        }

        if (routes.Match(ctx.Request.Path.Value ?? "/", ctx.Request.Method) is not { } match)
        {
            await TornadoResponse.ErrorAsync(ctx, 404);
            return;
        }

        var (name, arg, route) = match;
        if (NetapiCall.Current is { } call)
        {
            call.Route = Routes.Template(name, arg is not null);
        }

        if (HttpMethods.IsOptions(ctx.Request.Method))
        {
            Preflight(ctx);
            return;
        }

        if (route is null)
        {
            await TornadoResponse.ErrorAsync(ctx, 405);
            return;
        }

        var handler = route.Handler;
        var output = Output.Choose(ctx.Request.Headers.Accept.Count == 0 ? null : ctx.Request.Headers.Accept.ToString());
        if (route.Route.Spec.Admission == RouteAdmission.Stream)
        {
            // A stream reads no body and holds no request slot: the event stream bounds each subscriber.
            // Deliberate difference: its Accept is not checked. Salt's prepare() refuses the
            // `Accept: text/event-stream` every browser's EventSource sends with a 406 (the WebSockets
            // never check it).
            await RunAsync(ctx, name, handler, new TornadoRequest(ctx, output ?? Output.Json, arg));
            return;
        }

        // prepare(): an answer format first (406), then the body (406 / 400).
        if (output is null)
        {
            await TornadoResponse.ErrorAsync(ctx, 406);
            return;
        }

        // Past 1 MiB only for a request whose token (X-Auth-Token or the session cookie) is valid, checked
        // before the body is read; /login and /run carry credentials in the body, so they never are.
        var anonymous = RequestBodyBudget.AnonymousLimit(Options.Listener.MaxRequestBodySize);
        var large = RequestBodyBudget.MayExceed(ctx.Request, anonymous)
            && await Tokens.ValidateAsync(new TornadoRequest(ctx, output, arg).Token, ctx.RequestAborted) is not null;
        using var body = await bodies.ReadAsync(ctx.Request, large ? Options.Listener.MaxRequestBodySize : anonymous, waitForBudget: large);
        if (body.Outcome != RequestBodyOutcome.Read)
        {
            await TornadoResponse.ErrorAsync(ctx, body.StatusCode);
            return;
        }

        TornadoRequest request;
        try
        {
            var payload = RequestData.Deserialize(ctx.Request, body.Bytes);
            request = new TornadoRequest(ctx, output, arg) { Payload = payload, Lowstate = RequestData.Lowstate(payload) };
        }
        catch (BadBodyException e)
        {
            await TornadoResponse.ErrorAsync(ctx, e.Status);
            return;
        }

        if (route.Route.Spec.Admission == RouteAdmission.Credentials)
        {
            using var attempt = await logins.EnterAsync(ctx.Connection.RemoteIpAddress, ctx.RequestAborted);
            if (attempt is null)
            {
                await TornadoResponse.ErrorAsync(ctx, 503);
                return;
            }

            await RunAsync(ctx, name, handler, request);
            if (ctx.Response.StatusCode == 401 || request.AuthFailed)
            {
                attempt.Failed();
            }
            else if (ctx.Response.StatusCode == 200)
            {
                attempt.Succeeded();
            }

            return;
        }

        if (!await gate.EnterAsync(ctx.RequestAborted))
        {
            await TornadoResponse.ErrorAsync(ctx, 503);
            return;
        }

        try
        {
            await RunAsync(ctx, name, handler, request);
        }
        finally
        {
            gate.Exit();
        }
    }

    private async Task RunAsync(HttpContext ctx, string route, Handler handler, TornadoRequest request)
    {
        try
        {
            await handler(request);
        }
        catch (BadBodyException e) when (!ctx.Response.HasStarted)
        {
            await TornadoResponse.ErrorAsync(ctx, e.Status);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away (Tornado's on_connection_close): nothing to answer.
        }
        catch (SaltApiException e) when (!ctx.Response.HasStarted)
        {
            // Outside a lowstate (login, hook): the error's status, not Salt's generic 500.
            await TornadoResponse.ErrorAsync(ctx, e.HttpStatus());
        }
        catch (Exception e) when (!ctx.Response.HasStarted && e is not OperationCanceledException)
        {
            // As Tornado's uncaught exception: logged, and its 500 page (never a trace to the client).
            Logger.LogError("Uncaught exception {Method} {Route}: {Type}: {Message}", ctx.Request.Method, route, e.GetType().Name, e.Message);
            await TornadoResponse.ErrorAsync(ctx, 500);
        }
    }

    /// <summary>As _check_cors_origin: a listed origin is itself, <c>*</c> allows any; null when not allowed.</summary>
    public string? AllowedOrigin(string? origin)
    {
        var allowed = Options.CorsOrigins;
        if (allowed.Count == 0)
        {
            return null;
        }

        if (allowed.Count == 1 && allowed[0] == "*")
        {
            return "*";
        }

        return origin is not null && allowed.Contains(origin, StringComparer.Ordinal) ? origin : null;
    }

    // As set_default_headers: Access-Control-Allow-Origin when cors_origin allows the request's Origin.
    private void SetDefaultHeaders(HttpContext ctx)
    {
        if (AllowedOrigin(ctx.Request.Headers.Origin.Count == 0 ? null : ctx.Request.Headers.Origin.ToString()) is { } origin)
        {
            ctx.Response.Headers.AccessControlAllowOrigin = origin;
        }
    }

    // As BaseSaltAPIHandler.options: the requested headers allowed, X-Auth-Token exposed, 204. Deliberate
    // difference: without Access-Control-Request-Headers Salt fails (None.split) with a 500.
    private static void Preflight(HttpContext ctx)
    {
        var h = ctx.Response.Headers;
        var requested = ctx.Request.Headers.AccessControlRequestHeaders.ToString();
        if (requested.Length > 0)
        {
            h.AccessControlAllowHeaders = string.Join(',', requested.Split(','));
        }

        h.AccessControlExposeHeaders = "X-Auth-Token";
        h.AccessControlAllowMethods = "OPTIONS, GET, POST";
        ctx.Response.StatusCode = 204;
        ctx.Response.ContentType = TornadoResponse.Html;
    }

    public void Dispose()
    {
        gate.Dispose();
        Tokens.Dispose();
    }
}

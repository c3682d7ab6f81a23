using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Hooks;
using SaltApi.NetapiKit.Events;
using SaltApi.Plugins.RestTornadoCompat.Http;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>saltnado's EventsSaltAPIHandler (<c>/events</c>, Server-Sent Events) and WebhookSaltAPIHandler (<c>/hook</c>).</summary>
internal sealed partial class StreamHandlers(Saltnado app)
{
    private readonly ApiHandlers api = new(app);

    /// <summary>GET <c>/events</c>: every bus event while the token lives.</summary>
    public async Task EventsAsync(TornadoRequest r)
    {
        var token = await app.SessionAsync(r, r.Token);
        if (token is null)
        {
            await TornadoResponse.RedirectAsync(r.Ctx, "/login");
            return;
        }

        var resp = r.Ctx.Response;
        resp.StatusCode = 200;
        resp.ContentType = "text/event-stream";
        resp.Headers.CacheControl = "no-cache";
        resp.Headers.Connection = "keep-alive";

        // It ends when the client goes, the token expires or the daemon stops (then at once: the drain waits only
        // for requests).
        using var live = CancellationTokenSource.CreateLinkedTokenSource(r.Aborted, app.Stopping);
        try
        {
            await SseStream.WriteAsync(resp, app.Events, token, app.Tokens, app.Logger, live.Token);
        }
        catch (OperationCanceledException) when (app.Stopping.IsCancellationRequested && !r.Aborted.IsCancellationRequested)
        {
            // The daemon stops: the response ends here, whole.
        }
    }

    /// <summary>POST <c>/hook[/tag…]</c>: the request fired on the bus as <c>salt/netapi/hook[/tag…]</c>.</summary>
    public async Task HookAsync(TornadoRequest r)
    {
        if (!app.Options.WebhookDisableAuth && !await api.VerifiedAsync(r))
        {
            return;
        }

        var suffix = r.PathArg ?? "";

        // Deliberate difference: a decoded path with control characters (%0d%0a) would make a tag that
        // forges lines in /events streams and logs; Salt fires it.
        if (suffix.Any(char.IsControl))
        {
            await TornadoResponse.ErrorAsync(r.Ctx, 400);
            return;
        }

        var get = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, values) in r.Ctx.Request.Query)
        {
            get[name] = values.Count == 1 ? values[0] : values.Select(v => (object?)v).ToList();
        }

        // As WebhookSaltAPIHandler.post: every request header, but this API's own credentials (X-Auth-Token,
        // the session_id cookie), with which a reader of the bus could act as the caller (HookHeaders).
        // Deliberate difference: Remote-Addr is the client's address, as rest_cherrypy's; a client-sent
        // Remote-Addr header never reaches the bus (Salt's rest_tornado passes it on as sent).
        var headers = HookHeaders.Of(r.Ctx);

        var data = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            // Deliberate difference: without a body Salt fails (no request_payload, a 500); the post is {} here.
            ["post"] = r.Payload ?? new OrderedDictionary<string, object?>(StringComparer.Ordinal),
            ["get"] = get,
            ["headers"] = headers,
        };
        var ok = await app.Client.FireEventAsync("salt/netapi/hook" + suffix, data, r.Aborted);
        await r.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["success"] = ok });
    }
}

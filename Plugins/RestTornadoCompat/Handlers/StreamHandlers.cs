using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
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

        // A quiet stream, or a reader that pauses, is not a slow client: no minimum response rate here
        // (a reader that falls too far behind is dropped by its subscription's bound).
        if (r.Ctx.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        // Every stream has its own subscription, each with its own bounded queue. It ends when the client
        // goes, the token expires or the daemon stops (then at once: the drain waits only for requests).
        using var sub = app.Events.Subscribe();
        using var live = CancellationTokenSource.CreateLinkedTokenSource(r.Aborted, app.Stopping);
        var ct = live.Token;
        var writer = resp.BodyWriter;
        try
        {
            await resp.WriteAsync(EventText.Preamble, ct);
            await resp.Body.FlushAsync(ct);
            while (await sub.Reader.WaitToReadAsync(ct))
            {
                // As the handler's loop: the stream ends when the token is no longer valid. Checked before each
                // batch of what is queued rather than before each event: with 1,000 streams each taking every
                // event, the lookup was the dearest part of a delivery.
                if (await app.Tokens.ValidateAsync(token.Token, ct) is null)
                {
                    return;
                }

                // Each event straight into the response's pipe from the bytes every subscriber shares (its JSON
                // serialized once), then one flush for the batch.
                var batched = 0;
                while (batched < SseRecord.MaxBatchBytes && sub.Reader.TryRead(out var e))
                {
                    SseRecord.Write(writer, e);
                    batched += e.Tag.Length + e.Utf8Json().Length;
                }

                if (batched > 0)
                {
                    await writer.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (app.Stopping.IsCancellationRequested && !r.Aborted.IsCancellationRequested)
        {
            // The daemon stops: the response ends here, whole.
        }
        catch (EventStreamOverflowException)
        {
            app.Logger.LogWarning("an /events client fell behind the bus and was disconnected");
        }
        catch (SaltApiException e)
        {
            app.Logger.LogWarning("/events stream ended: {Message}", e.Message);
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

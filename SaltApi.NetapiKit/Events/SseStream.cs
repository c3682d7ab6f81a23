using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Tokens;

namespace SaltApi.NetapiKit.Events;

/// <summary>The <c>/events</c> stream of rest_cherrypy's Events and saltnado's EventsSaltAPIHandler.</summary>
public static class SseStream
{
    /// <summary>
    /// Writes the preamble, then every bus event as an SSE record, until the token is no longer valid (expired, logged
    /// out in any module, deleted on the master) or <paramref name="ct"/> ends. Every stream has its own subscription
    /// (Salt issue #35798). A stream that falls behind the bus, or a failed token check, ends it with a warning.
    /// </summary>
    public static async Task WriteAsync(HttpResponse response, IEventStream events, SaltToken token, TokenCheck tokens, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(tokens);

        // A quiet stream, or a reader that pauses, is not a slow client: no minimum response rate here
        // (a reader that falls too far behind is dropped by its subscription's bound).
        if (response.HttpContext.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        using var sub = events.Subscribe();
        var writer = response.BodyWriter;
        var reader = sub.Reader;
        try
        {
            await response.WriteAsync(EventText.Preamble, ct).ConfigureAwait(false);
            await response.Body.FlushAsync(ct).ConfigureAwait(false);
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                // As Events.GET's listen(): Salt checks the token before each next(stream); here before each batch of
                // what is queued, the lookup being the dearest part of a delivery when 1,000 streams take every event.
                if (await tokens.ValidateAsync(token.Token, ct).ConfigureAwait(false) is null)
                {
                    return;
                }

                // Each event straight into the response's pipe from the bytes every subscriber shares (its JSON
                // serialized once), then one flush for the batch: streamed as it happens, no per-event sleep.
                var batched = 0;
                while (batched < SseRecord.MaxBatchBytes && reader.TryRead(out var e))
                {
                    SseRecord.Write(writer, e);
                    batched += e.Tag.Length + e.Utf8Json().Length;
                }

                if (batched > 0)
                {
                    await writer.FlushAsync(ct).ConfigureAwait(false);
                }
            }
        }
        catch (EventStreamOverflowException)
        {
            logger.LogWarning("an /events client fell behind the bus and was disconnected");
        }
        catch (SaltApiException e)
        {
            logger.LogWarning("/events stream ended: {Message}", e.Message);
        }
    }
}

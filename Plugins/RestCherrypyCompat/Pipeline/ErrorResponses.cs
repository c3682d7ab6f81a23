using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Hosting;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// Turns what the steps inside throw into CherryPy's answers: an <see cref="HttpError"/> or a Salt error is
/// CherryPy's HTML error page with Salt's status, an unexpected error is rest_cherrypy's generic 500.
/// </summary>
internal sealed class ErrorResponses(CherrypyServices api)
{
    private ILogger Logger => api.Logger;

    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        try
        {
            await next(ctx);
        }
        catch (Exception) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client closed its connection before its answer: nobody to answer, and not a server error (the
            // failed write of the answer, or the request's wait cancelled, would otherwise be logged as a 500).
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            // The failed answer may have set its length already: the error page has its own.
            ctx.Response.ContentLength = null;
            await FailAsync(Call.Of(ctx), e);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away mid-stream: nothing left to answer.
        }
        catch (Exception e)
        {
            // As CherryPy for a streamed response: an error after the headers just closes the connection.
            if (Logger.IsEnabled(LogLevel.Warning))
            {
                Logger.LogWarning("{Path}: stream ended by an error: {Message}", LogSecrets.Path(ctx.Request.Path.Value ?? "/"), e.Message);
            }

            ctx.Abort();
        }
    }

    private async Task FailAsync(Call call, Exception e)
    {
        var (status, message) = e switch
        {
            HttpError h => (h.Status, h.Message),
            BadHttpRequestException b when b.StatusCode == 413 => (413, ErrorPage.DefaultMessage(413)),
            BadHttpRequestException b => (b.StatusCode, b.Message),
            // The contract's one mapping; the generic 500 is rest_cherrypy's own answer (below).
            SaltApiException s => s.HttpStatus() switch
            {
                500 => (0, s.Message),
                504 => (504, ErrorPage.DefaultMessage(504)),
                var kind => (kind, s.Message),
            },
            _ => (0, e.Message),
        };

        if (status == 0 || (status == 500 && e is not HttpError))
        {
            if (Logger.IsEnabled(LogLevel.Debug))
            {
                Logger.LogDebug(e, "Error while processing request for: {Path}", LogSecrets.Path(call.Request.Path.Value ?? "/"));
            }

            if (call.GenericErrorAsData)
            {
                // As Salt's hypermedia_handler: the generic 500 is data, negotiated like a result.
                var body = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["status"] = 500L,
                    ["return"] = api.Options.Listener.Debug ? e.ToString() : "An unexpected error occurred",
                };
                try
                {
                    await call.RespondAsync(body, 500);
                    return;
                }
                catch (HttpError h)
                {
                    (status, message) = (h.Status, h.Message);
                }
            }
            else
            {
                (status, message) = (500, ErrorPage.DefaultMessage(500));
            }
        }

        if (status >= 500 && Logger.IsEnabled(LogLevel.Warning))
        {
            Logger.LogWarning("{Status} for {Method} {Path}: {Message}", status, call.Request.Method, LogSecrets.Path(call.Request.Path.Value ?? "/"), message);
        }

        var page = Encoding.UTF8.GetBytes(ErrorPage.Render(status, message, api.Options.Listener.Debug ? e.ToString() : ""));
        await call.WriteAsync(status, ErrorPage.ContentType, page);
    }
}

using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Json;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Formats;
using SaltApi.NetapiKit.Hosting;
using SaltApi.NetapiKit.Tokens;
using SaltApi.NetapiKit.Access;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>
/// Salt's rest_wsgi (salt/netapi/rest_wsgi.py): POST a JSON list of lowstate chunks to any path,
/// get <c>{"return": [...]}</c>. Bound to localhost only, as Salt's <c>make_server("localhost", port)</c>.
/// The intended behaviour of the module is served (spec/04 §2–3), with the fixes listed in docs/migrating-from-salt-api.md.
/// </summary>
public sealed class RestWsgiModule() : NetapiModule("rest_wsgi")
{
    // As rest_wsgi's GET: the app returns a str that wsgiref iterates into characters.
    private const string Marty = "They found me. I don't know how, but they found me. Run for it, Marty!";

    /// <inheritdoc/>
    protected override ModuleHostOptions Host(IReadOnlyDictionary<string, object?> section)
    {
        var options = RestWsgiOptions.Bind(section);
        return new ModuleHostOptions(options.Listener, (web, ctx) =>
        {
            var handler = new LowstateHandler(ctx, options);
            web.Run(handler.HandleAsync);
            return handler;
        })
        {
            DrainTimeout = options.DrainTimeout,
            OpenApi = WsgiRoutes.OpenApi,
        };
    }

    private sealed class LowstateHandler(NetapiModuleContext context, RestWsgiOptions options) : IDisposable
    {
        private readonly RequestGate gate = new(options.Listener.ThreadPool, options.Listener.QueueSize, TimeSpan.FromSeconds(60));

        // Requests with credentials in their chunks wait for the master's verdict here, not in the gate.
        private readonly AuthThrottle logins = new(options.Listener.ThreadPool);

        // Bytes of bodies held at once: every running and queued request may hold a body of the anonymous
        // limit (1 MiB); a larger one (its token checked first) waits for budget.
        private readonly RequestBodyBudget bodies = RequestBodyBudget.For(options.Listener.MaxRequestBodySize, Math.Min(options.Listener.ThreadPool + options.Listener.QueueSize, RequestBodyBudget.MaxBodiesBudgeted), largeBodiesWait: true);

        // The kit's token check (X-Auth-Token, api_acl's token user), as the other modules': its cache obeys the
        // daemon's revocation signal, so a token logged out in any module is refused here at once.
        private readonly TokenCheck tokens = new(context.Client, TimeProvider.System);

        public void Dispose()
        {
            gate.Dispose();
            tokens.Dispose();
        }

        public async Task HandleAsync(HttpContext http)
        {
            if (NetapiCall.Current is { } call)
            {
                call.Route = "/"; // rest_wsgi answers every path alike
            }

            var (status, body) = await AnswerAsync(http);
            http.Response.StatusCode = status;
            if (status != 200)
            {
                // Kestrel's own phrase for 200 is rest_wsgi's "OK"; a phrase set here is encoded per response.
                http.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = Reason(status);
            }

            http.Response.ContentType = "application/json";
            // Deliberate difference: Content-Length is the byte length (Salt counts characters, #59272).
            // For speed, the JSON is written straight into Kestrel's response buffers (no string, no byte[]).
            SaltJson.WriteTo(http.Response, new Dictionary<string, object?>(1) { ["return"] = body });
            await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
        }

        private async Task<(int Status, object? Body)> AnswerAsync(HttpContext http)
        {
            var request = http.Request;
            var route = WsgiRoutes.For(request.Method);
            if (route is null)
            {
                return (405, "405: Method Not Allowed");
            }

            if (route == WsgiRoutes.Greeting)
            {
                return (200, Marty.Select(c => (object?)c.ToString()).ToList());
            }

            // Deliberate difference: Salt compares the whole header with "application/json", so
            // "application/json; charset=utf-8" is a 406 there; parameters are accepted here.
            if (FormData.MediaType(request.ContentType) != "application/json")
            {
                return (406, "406: JSON required");
            }

            // The body is read before a slot is taken: a slow sender holds a connection, not a slot. Past 1 MiB
            // only with a valid X-Auth-Token, checked before the body is read (ours: rest_wsgi reads no header;
            // the token in the chunks is only known once the body is in).
            var anonymous = RequestBodyBudget.AnonymousLimit(options.Listener.MaxRequestBodySize);
            var large = RequestBodyBudget.MayExceed(request, anonymous) && await TokenIsValidAsync(request);
            using var body = await bodies.ReadAsync(request, large ? options.Listener.MaxRequestBodySize : anonymous, waitForBudget: large);
            switch (body.Outcome)
            {
                case RequestBodyOutcome.BudgetSpent:
                    return (503, "503: Service Unavailable");
                case RequestBodyOutcome.TimedOut:
                    return (408, "408: Request Timeout");
                case RequestBodyOutcome.TooLarge:
                    return (413, "413: Request Entity Too Large");
            }

            var raw = body.Bytes;

            // Ours: the chunks are counted before anything is built (Salt has no bound), by the reader that
            // parses them (a BOM in front counted as the parser reads it).
            if (SaltJson.CountArrayItems(raw, options.MaxChunks) > options.MaxChunks)
            {
                return (400, $"400: Too many lowstate chunks (at most {options.MaxChunks} in one request)");
            }

            if (Parse(raw, out var chunks) is { } error)
            {
                return error;
            }

            // Chunks with credentials (eauth) rather than a token: the master may hold a refusal ~1 s (Salt's
            // anti-timing delay), so they wait for it in the login throttle, never in a request slot.
            if (chunks.Any(c => !((IReadOnlyDictionary<string, object?>)c!).ContainsKey("token")))
            {
                using var attempt = await logins.EnterAsync(http.Connection.RemoteIpAddress, http.RequestAborted);
                if (attempt is null)
                {
                    return (503, "503: Service Unavailable");
                }

                var answer = await RunAsync(http, chunks);
                if (answer.Status == 401)
                {
                    attempt.Failed();
                }
                else if (answer.Status == 200)
                {
                    attempt.Succeeded();
                }

                return answer;
            }

            if (!await gate.EnterAsync(http.RequestAborted))
            {
                return (503, "503: Service Unavailable");
            }

            try
            {
                return await RunAsync(http, chunks);
            }
            finally
            {
                gate.Exit();
            }
        }

        private async Task<bool> TokenIsValidAsync(HttpRequest request)
        {
            try
            {
                return await tokens.ValidateAsync(request.Headers[TokenCheck.HeaderName].ToString().Trim(), request.HttpContext.RequestAborted) is not null;
            }
            catch (SaltApiException)
            {
                return false;
            }
        }

        // The lowstate, or the error that answers it.
        private static (int Status, object? Body)? Parse(byte[] raw, out List<object?> chunks)
        {
            chunks = [];
            object? parsed;
            try
            {
                parsed = SaltJson.Parse(raw);
            }
            catch (SaltJsonException e)
            {
                return (400, "400: " + e.Message);
            }

            // Deliberate difference: Salt iterates whatever it got and answers 500
            // ("'str' object has no attribute 'get'"); a body that is not a list of maps is a 400 here.
            if (parsed is not List<object?> list)
            {
                return (400, "400: Lowstate must be a JSON list of objects");
            }

            chunks = list;
            return list.All(c => c is IReadOnlyDictionary<string, object?>) ? null : (400, "400: Each lowstate chunk must be a JSON object");
        }

        private async Task<(int Status, object? Body)> RunAsync(HttpContext http, List<object?> chunks)
        {
            var results = new List<object?>(chunks.Count);
            try
            {
                // As rest_wsgi run_chunk: chunks in order; the first error aborts the request.
                foreach (var chunk in chunks)
                {
                    if (options.ApiAcl is { } apiAcl && !await apiAcl.AllowsChunkAsync((IReadOnlyDictionary<string, object?>)chunk!, http, tokens, http.RequestAborted))
                    {
                        return (401, "Authentication error occurred.");
                    }

                    results.AddRange(await context.Client.RunAsync((IReadOnlyDictionary<string, object?>)chunk!, http.RequestAborted));
                }
            }
            catch (SaltApiException e)
            {
                // Deliberate difference: Salt's rest_wsgi answers 401 only for EauthAuthenticationError and 500
                // for everything else; here every module maps an error kind to rest_cherrypy's status.
                return (e.HttpStatus(), e.Message);
            }
            catch (NotImplementedException e)
            {
                return (501, e.Message);
            }

            return (200, results);
        }
    }

    // rest_wsgi's own upper-case reason phrases (its H dict).
    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "BAD REQUEST",
        401 => "UNAUTHORIZED",
        404 => "NOT FOUND",
        405 => "METHOD NOT ALLOWED",
        406 => "NOT ACCEPTABLE",
        408 => "REQUEST TIMEOUT",
        413 => "REQUEST ENTITY TOO LARGE",
        500 => "INTERNAL SERVER ERROR",
        501 => "NOT IMPLEMENTED",
        503 => "SERVICE UNAVAILABLE",
        504 => "GATEWAY TIMEOUT",
        _ => status.ToString(CultureInfo.InvariantCulture),
    };
}

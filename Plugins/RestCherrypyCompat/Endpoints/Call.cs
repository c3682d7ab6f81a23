using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Json;
using SaltApi.NetapiKit.Formats;
using SaltApi.NetapiKit.Routing;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary>
/// One request's state through the pipeline (a request feature): the path as CherryPy sees it, the
/// resource, the body read before the gate, the session; and the reading and answering every resource shares.
/// </summary>
internal sealed class Call(HttpContext ctx, CherrypyServices api)
{
    private byte[]? rawBody;
    private bool bodyRead;
    private bool bodyIsForm;

    public HttpContext Ctx { get; } = ctx;

    public HttpRequest Request => Ctx.Request;

    public HttpResponse Response => Ctx.Response;

    public CancellationToken Aborted => Ctx.RequestAborted;

    /// <summary>The request path as sent (routing sees <see cref="Segments"/>).</summary>
    public string OriginalPath { get; set; } = "/";

    /// <summary>The request path under <c>root_prefix</c>, as sent (for CherryPy's "not found" message).</summary>
    public string LocalPath { get; set; } = "/";

    /// <summary>The path's segments, empty ones dropped, each percent-decoded once more (as CherryPy's dispatcher).</summary>
    public string[] Segments { get; set; } = [];

    /// <summary>The route of the request's resource and method (null before routing or when none did).</summary>
    public CherrypyRoute? Route { get; set; }

    /// <summary>The session's token, when the resource has sessions and the request carried a live one.</summary>
    public SaltToken? Session { get; set; }

    /// <summary>Unexpected errors answer the negotiated JSON/YAML body (hypermedia_out); off for raw outputs.</summary>
    public bool GenericErrorAsData { get; set; }

    /// <summary>The body read before the gate (null when there was none); see <see cref="Prefetched"/>.</summary>
    public byte[]? Body { get; set; }

    /// <summary>Whether <see cref="Body"/> holds the request body.</summary>
    public bool Prefetched { get; set; }

    /// <summary>The body's bytes in the budget, given back when the request is over.</summary>
    public RequestBody? BodyLease { get; private set; }

    /// <summary>The request body as text for hooks ("" for a form or no body); null before it was read.</summary>
    /// <remarks>Decoded only when asked for: most requests never need it.</remarks>
    public string? RawBody => !bodyRead ? null : rawBody is null || bodyIsForm ? "" : Encoding.UTF8.GetString(rawBody);

    /// <summary>The call of a request the pipeline has entered.</summary>
    public static Call Of(HttpContext ctx) => ctx.Features.Get<Call>() ?? throw new InvalidOperationException("request outside the rest_cherrypy pipeline");

    /// <summary>An optional route segment (<c>{mid?}</c>), decoded as <see cref="Segments"/> are; null when absent.</summary>
    public string? Arg(string name) => Ctx.GetRouteValue(name) is string { Length: > 0 } v ? Uri.UnescapeDataString(v) : null;

    /// <summary>A catch-all route value (<c>{**tag}</c>) as decoded segments.</summary>
    public string[] Args(string name) => Ctx.GetRouteValue(name) is string { Length: > 0 } v
        ? v.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray()
        : [];

    // ------------------------------------------------------------ input

    /// <summary>
    /// The request body, bounded in size (413), time (408) and the shared body budget (503). Past 1 MiB only
    /// for a request whose session (X-Auth-Token or the cookie) is valid, checked before the body is read;
    /// credentials in the body (<c>/login</c>, <c>/run</c>) never make a request such.
    /// </summary>
    public async Task<byte[]?> ReadBodyAsync()
    {
        if (Prefetched)
        {
            return Body;
        }

        var req = Request;
        if (req.ContentLength == 0)
        {
            return null;
        }

        var max = api.Options.Listener.MaxRequestBodySize;
        var anonymous = RequestBodyBudget.AnonymousLimit(max);
        var large = RequestBodyBudget.MayExceed(req, anonymous)
            && await api.Sessions.ValidateAsync(TokenCheck.Read(req, emptyHeaderIsAbsent: true), Aborted) is not null;

        // Deliberate difference: a chunked body (no Content-Length) is read; CherryPy ignores it.
        var body = await api.Bodies.ReadAsync(req, large ? max : anonymous, waitForBudget: large);
        switch (body.Outcome)
        {
            case RequestBodyOutcome.TooLarge:
                // As CherryPy's order of tools: salt_auth refuses a resource that needs a session without one (401)
                // before hypermedia_in reads the body.
                if (Route?.Spec.Session == RouteSession.Required
                    && await api.Sessions.ValidateAsync(TokenCheck.Read(req, emptyHeaderIsAbsent: true), Aborted) is null)
                {
                    throw new HttpError(401);
                }

                throw new HttpError(413);
            case RequestBodyOutcome.TimedOut:
                throw new HttpError(408, "The request body did not arrive in time");
            case RequestBodyOutcome.BudgetSpent:
                throw new HttpError(503);
        }

        BodyLease = body;
        return body.Bytes.Length == 0 ? null : body.Bytes;
    }

    /// <summary>The body parsed by its Content-Type (rest_cherrypy's hypermedia_in); kept raw for hooks.</summary>
    public async Task<object?> ReadDataAsync()
    {
        var body = await ReadBodyAsync();
        var data = BodyParser.Parse(Request.ContentType, body);
        rawBody = body;
        bodyIsForm = FormData.MediaType(Request.ContentType) == "application/x-www-form-urlencoded";
        bodyRead = true;
        return data;
    }

    /// <summary>The body as lowstate (rest_cherrypy's lowdata_fmt).</summary>
    public async Task<object?> ReadLowstateAsync() => Lowstate.Shape(await ReadDataAsync());

    // ------------------------------------------------------------ output

    /// <summary>A value in the negotiated format (rest_cherrypy's hypermedia_out); 406 when none fits.</summary>
    public async Task RespondAsync(object? value, int status = 200)
    {
        var accept = Request.Headers.Accept.ToString();
        var format = MediaNegotiation.Choose(accept) ?? throw new HttpError(406, MediaNegotiation.NotAcceptableMessage(accept));
        var resp = Response;
        var withBody = !HttpMethods.IsHead(Request.Method);
        // Status and type first: the first write into the body starts the response.
        resp.StatusCode = status;
        resp.ContentType = MediaNegotiation.ContentType(format);
        try
        {
            if (format == OutputFormat.Json)
            {
                // For speed, JSON is written straight into Kestrel's response buffers (no string, no byte[]).
                SaltJson.WriteTo(resp, value, withBody);
            }
            else
            {
                var text = Yaml.Dump(value);
                resp.ContentLength = Encoding.UTF8.GetByteCount(text);
                if (withBody)
                {
                    Encoding.UTF8.GetBytes(text, resp.BodyWriter);
                }
            }
        }
        catch (InvalidOperationException) when (!Aborted.IsCancellationRequested)
        {
            throw new HttpError(500, "Could not serialize the return data from Salt.");
        }

        if (withBody)
        {
            await resp.BodyWriter.FlushAsync(Aborted);
        }
    }

    /// <summary>Raw bytes (tarballs, pages, files), no negotiation.</summary>
    public async Task WriteAsync(int status, string contentType, byte[] bytes)
    {
        var resp = Response;
        resp.StatusCode = status;
        resp.ContentType = contentType;
        resp.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(Request.Method))
        {
            await resp.Body.WriteAsync(bytes, Aborted);
        }
    }
}

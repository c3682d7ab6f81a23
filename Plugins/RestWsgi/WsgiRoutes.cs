using SaltApi.NetapiKit.Routing;
using S = SaltApi.NetapiKit.Routing.OpenApiSchemas;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>
/// rest_wsgi's routes: every path answers alike (spec/04 §2), GET with the module's greeting and POST with a
/// lowstate. The dispatch and the OpenAPI description read this table.
/// </summary>
internal static class WsgiRoutes
{
    /// <summary>GET: as rest_wsgi's GET, the app's str that wsgiref iterates into characters.</summary>
    public static readonly NetapiRoute Greeting = new("/{**path}", ["GET"], "A greeting (rest_wsgi's GET answers every path with it)")
    {
        Errors = RouteErrors.AsData,
        Answers = [new(200, "The greeting, one character per item of return", S.Return)],
    };

    /// <summary>POST: a JSON list of lowstate chunks, each with its own token or eauth credentials.</summary>
    public static readonly NetapiRoute Run = new("/{**path}", ["POST"], "Run a lowstate: each chunk carries its own token, or username, password and eauth")
    {
        // Chunks with credentials wait in the login throttle, chunks with tokens in the gate: decided per request.
        Admission = RouteAdmission.Gate,
        Errors = RouteErrors.AsData,
        Bodies = ["application/json"],
        BodySchema = S.Lowstate,
        BodyRequired = true,
        Description = "The token goes in each chunk (`token`), as rest_wsgi reads no header. A body above 1 MiB (up to max_request_body_size) needs a valid X-Auth-Token header as well.",
        Answers =
        [
            new(200, "One result per chunk", S.Return),
            new(400, "Not a JSON list of lowstate chunks, or too many chunks"),
            new(401, "Authentication error occurred."),
            new(406, "406: JSON required (Content-Type: application/json)"),
            new(408, "408: Request Timeout (the body did not arrive in time)"),
            new(413, "413: Request Entity Too Large"),
            new(500, "An error of the master or of the client"),
            new(501, "Not implemented"),
            new(503, "503: Service Unavailable (queue full, or the master is not answering)"),
            new(504, "Gateway timeout"),
        ],
    };

    public static readonly IReadOnlyList<NetapiRoute> Table = [Greeting, Run];

    /// <summary>The route answering <paramref name="method"/>, or null (405).</summary>
    public static NetapiRoute? For(string method) => Table.FirstOrDefault(r => r.Methods.Contains(method, StringComparer.Ordinal));

    public static byte[] OpenApi() => OpenApiDocument.Write(
        new OpenApiInfo("rest_wsgi", "3006.0", "Salt's rest_wsgi netapi module: POST a JSON list of lowstate chunks to any path; each chunk carries its own `token`, or `username`, `password` and `eauth`. Answers are JSON: `{\"return\": [...]}`, with the error's status and `{\"return\": \"<status>: <message>\"}` on an error.")
        {
            ErrorMediaType = "application/json",
            ErrorSchema = S.ErrorReturn,
            SessionCookie = null,
        },
        Table);
}

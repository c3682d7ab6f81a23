using System.Text.RegularExpressions;

namespace SaltApi.NetapiKit.Routing;

/// <summary>How a route treats the caller's session (the Salt token, as <c>X-Auth-Token</c> or the <c>session_id</c> cookie).</summary>
public enum RouteSession
{
    /// <summary>No session is read: the route needs none, or its credentials are in the body.</summary>
    None,

    /// <summary>A session sent is validated and refreshed; the route answers without one too.</summary>
    Optional,

    /// <summary>Without a live session the route answers 401.</summary>
    Required,

    /// <summary>The route checks a token itself (a stream: the header, the cookie, a query parameter or the path).</summary>
    OwnCheck,
}

/// <summary>Where a request of the route waits before it runs.</summary>
public enum RouteAdmission
{
    /// <summary>A slot of the module's request gate (503 when its queue is full).</summary>
    Gate,

    /// <summary>Credentials in the body: a turn of the login throttle, never a request slot (the master may hold a refusal ~1 s).</summary>
    Credentials,

    /// <summary>A stream (event stream, WebSocket): no slot; the event stream bounds each subscriber.</summary>
    Stream,
}

/// <summary>How an unexpected error of the route is answered.</summary>
public enum RouteErrors
{
    /// <summary>As data in the negotiated format (rest_cherrypy's hypermedia_handler: <c>{"status": 500, "return": ...}</c>).</summary>
    AsData,

    /// <summary>As the server's HTTP error page (where the output is raw: streams, files, tarballs).</summary>
    AsHttpError,
}

/// <summary>One documented answer of a route.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Description">What it means, in Salt's words.</param>
/// <param name="Schema">The body's schema (a name of <see cref="OpenApiSchemas"/>), or null for none or an error page.</param>
/// <param name="MediaTypes">The body's media types; null: the route's <see cref="NetapiRoute.Produces"/> for a schema, the module's error page otherwise.</param>
public sealed record RouteAnswer(int Status, string Description, string? Schema = null, IReadOnlyList<string>? MediaTypes = null);

/// <summary>
/// One route of a netapi module: everything the module's pipeline and its description need to know about a
/// path and the methods that share its facts. A module keeps one table of these; its dispatch, its gate and
/// session steps and its OpenAPI description (<see cref="OpenApiDocument"/>) all read that table.
/// </summary>
/// <param name="Path">The path template: literal segments, then at most one argument, <c>{mid?}</c> (optional) or <c>{**tag}</c> (the rest of the path).</param>
/// <param name="Methods">The methods (upper case), HEAD among them where the module answers it.</param>
/// <param name="Summary">One line for the description.</param>
public sealed partial record NetapiRoute(string Path, IReadOnlyList<string> Methods, string Summary)
{
    /// <summary>How the caller's session is treated.</summary>
    public RouteSession Session { get; init; }

    /// <summary>Where the request waits before it runs.</summary>
    public RouteAdmission Admission { get; init; }

    /// <summary>The media types of the body it accepts; empty: it reads no body.</summary>
    public IReadOnlyList<string> Bodies { get; init; } = [];

    /// <summary>The body's schema (a name of <see cref="OpenApiSchemas"/>), or null.</summary>
    public string? BodySchema { get; init; }

    /// <summary>Whether the body is required.</summary>
    public bool BodyRequired { get; init; }

    /// <summary>How an unexpected error is answered.</summary>
    public RouteErrors Errors { get; init; }

    /// <summary>The media types of its answers.</summary>
    public IReadOnlyList<string> Produces { get; init; } = ["application/json"];

    /// <summary>The answers it gives, each with its status.</summary>
    public IReadOnlyList<RouteAnswer> Answers { get; init; } = [];

    /// <summary>Query parameters it reads (name and description).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Query { get; init; } = [];

    /// <summary>A longer description (Markdown), or null.</summary>
    public string? Description { get; init; }

    /// <summary>The literal segments of <see cref="Path"/> (before the argument).</summary>
    public string[] Literal
    {
        get
        {
            var segments = Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            return Argument.Length == 0 ? segments : segments[..^1];
        }
    }

    /// <summary>The argument's template (the last segment, <c>{mid?}</c>, <c>{**tag}</c>, <c>{token}</c>), or "" when the path takes none.</summary>
    public string Argument => Path.Split('/', StringSplitOptions.RemoveEmptyEntries) is [.., var last] && ArgumentPattern().IsMatch(last) ? last : "";

    /// <summary>The argument's name, or null.</summary>
    public string? ArgumentName => Argument.Length == 0 ? null : Argument.Trim('{', '}', '*', '?');

    /// <summary>The most extra path segments it accepts: 0, 1 (<c>{x?}</c>), or any (<c>{**x}</c>).</summary>
    public int MaxArgs => Argument.Length == 0 ? 0 : Argument.StartsWith("{**", StringComparison.Ordinal) ? int.MaxValue : 1;

    [GeneratedRegex(@"^\{(\*\*)?[A-Za-z_][A-Za-z0-9_]*\??\}$")]
    private static partial Regex ArgumentPattern();
}

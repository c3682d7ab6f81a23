using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SaltApi.NetapiKit.Routing;

/// <summary>What a module's description says beside its routes.</summary>
/// <param name="Title">The title (<c>rest_cherrypy</c>).</param>
/// <param name="Version">The version of the API described (the Salt release it reproduces).</param>
/// <param name="Description">A paragraph for client authors (Markdown).</param>
public sealed record OpenApiInfo(string Title, string Version, string Description)
{
    /// <summary>The base path every route is under (rest_cherrypy's <c>root_prefix</c>).</summary>
    public string ServerUrl { get; init; } = "/";

    /// <summary>The media type of the module's error answers (its HTML error page, or JSON).</summary>
    public string ErrorMediaType { get; init; } = "text/html";

    /// <summary>The schema of the module's error answers.</summary>
    public string ErrorSchema { get; init; } = OpenApiSchemas.Text;

    /// <summary>The answer to a route that needs a session, without one (rest_cherrypy's 401; saltnado redirects to /login).</summary>
    public RouteAnswer Unauthenticated { get; init; } = new(401, "No valid session: log in first (No permission -- see authorization schemes)");

    /// <summary>Answers any route may give (rest_cherrypy's 403 for <c>authorized_ips</c>), added to each.</summary>
    public IReadOnlyList<RouteAnswer> CommonAnswers { get; init; } = [];

    /// <summary>The session cookie's name, or null when the module reads no cookie.</summary>
    public string? SessionCookie { get; init; } = "session_id";
}

/// <summary>
/// An OpenAPI 3.1 description generated from a module's route table (<see cref="NetapiRoute"/>), so that it cannot
/// drift from what the module serves: paths and methods, bodies, answers, and how each route authenticates.
/// </summary>
public static class OpenApiDocument
{
    /// <summary>Where a module serves its description when its <c>openapi</c> option is on.</summary>
    public const string Path = "/openapi.json";

    private const string TokenScheme = "AuthToken";
    private const string CookieScheme = "SessionCookie";

    /// <summary>The description as UTF-8 JSON.</summary>
    public static byte[] Write(OpenApiInfo info, IEnumerable<NetapiRoute> routes)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(routes);
        var table = routes.ToList();
        var document = new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject { ["title"] = info.Title, ["version"] = info.Version, ["description"] = info.Description },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = info.ServerUrl }),
            ["paths"] = Paths(info, table),
            ["components"] = Components(info, table),
        };
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            document.WriteTo(w);
        }

        return stream.ToArray();
    }

    // The paths a route template stands for: without its optional argument and with it.
    private static IEnumerable<(string Path, string? Argument)> Expand(NetapiRoute route)
    {
        var literal = "/" + string.Join('/', route.Literal);
        if (route.ArgumentName is not { } name)
        {
            yield return (literal, null);
            yield break;
        }

        var optional = route.Argument.EndsWith("?}", StringComparison.Ordinal) || route.Argument.StartsWith("{**", StringComparison.Ordinal);
        if (optional)
        {
            yield return (literal, null);
        }

        yield return ((literal == "/" ? "" : literal) + "/{" + name + "}", name);
    }

    private static JsonObject Paths(OpenApiInfo info, List<NetapiRoute> table)
    {
        var paths = new JsonObject();
        foreach (var route in table)
        {
            foreach (var (path, arg) in Expand(route))
            {
                if (paths[path] is not JsonObject item)
                {
                    paths[path] = item = new JsonObject();
                }

                foreach (var method in route.Methods)
                {
                    item[method.ToLowerInvariant()] = Operation(info, route, method, path, arg);
                }
            }
        }

        return paths;
    }

    private static JsonObject Operation(OpenApiInfo info, NetapiRoute route, string method, string path, string? arg)
    {
        var operation = new JsonObject { ["operationId"] = OperationId(method, path), ["summary"] = route.Summary };
        if (route.Description is { } description)
        {
            operation["description"] = description;
        }

        var parameters = new JsonArray();
        if (arg is not null)
        {
            parameters.Add(Parameter(arg, "path", true, route.MaxArgs > 1 ? "The rest of the path (it may hold more segments, separated by '/')" : null));
        }

        foreach (var (name, text) in route.Query)
        {
            parameters.Add(Parameter(name, "query", false, text));
        }

        if (parameters.Count > 0)
        {
            operation["parameters"] = parameters;
        }

        operation["security"] = Security(info, route.Session);
        if (route.Bodies.Count > 0 && method != "GET" && method != "HEAD")
        {
            operation["requestBody"] = new JsonObject { ["required"] = route.BodyRequired, ["content"] = Content(route.Bodies, route.BodySchema ?? OpenApiSchemas.Any) };
        }

        var responses = new JsonObject();
        foreach (var answer in Answers(info, route))
        {
            var response = new JsonObject { ["description"] = answer.Description };
            var schema = answer.Schema ?? (answer.Status >= 300 ? info.ErrorSchema : null);
            if (schema is not null && method != "HEAD")
            {
                response["content"] = Content(answer.MediaTypes ?? (answer.Schema is not null ? route.Produces : [info.ErrorMediaType]), schema);
            }

            responses[answer.Status.ToString(CultureInfo.InvariantCulture)] = response;
        }

        operation["responses"] = responses;
        return operation;
    }

    // The route's own answers, then what its facts imply: the module's answer without a session, 503 when the gate is full, the generic 500.
    private static IEnumerable<RouteAnswer> Answers(OpenApiInfo info, NetapiRoute route)
    {
        var answers = route.Answers.ToList();
        void Add(RouteAnswer a)
        {
            if (!answers.Any(x => x.Status == a.Status))
            {
                answers.Add(a);
            }
        }

        if (route.Session == RouteSession.Required)
        {
            Add(info.Unauthenticated);
        }

        if (route.Bodies.Count > 0)
        {
            Add(new RouteAnswer(408, "The body did not arrive in time"));
        }

        foreach (var common in info.CommonAnswers)
        {
            Add(common);
        }

        if (route.Admission != RouteAdmission.Stream)
        {
            Add(new RouteAnswer(503, "Too many requests waiting (the request queue or the login throttle is full)"));
        }

        Add(route.Errors == RouteErrors.AsData && route.Produces.Count > 0
            ? new RouteAnswer(500, "An unexpected error occurred", OpenApiSchemas.ErrorData)
            : new RouteAnswer(500, "An unexpected error occurred"));
        return answers.OrderBy(a => a.Status);
    }

    private static JsonObject Parameter(string name, string where, bool required, string? description)
    {
        var parameter = new JsonObject { ["name"] = name, ["in"] = where, ["required"] = required };
        if (description is not null)
        {
            parameter["description"] = description;
        }

        parameter["schema"] = new JsonObject { ["type"] = "string" };
        return parameter;
    }

    private static JsonArray Security(OpenApiInfo info, RouteSession session)
    {
        var security = new JsonArray();
        if (session != RouteSession.None)
        {
            security.Add(new JsonObject { [TokenScheme] = new JsonArray() });
            if (info.SessionCookie is not null)
            {
                security.Add(new JsonObject { [CookieScheme] = new JsonArray() });
            }

            if (session != RouteSession.Required)
            {
                // Optional, or a stream that also takes the token as a query parameter or in its path.
                security.Add(new JsonObject());
            }
        }

        return security;
    }

    // The same schema for each media type.
    private static JsonObject Content(IEnumerable<string> mediaTypes, string schema)
    {
        var content = new JsonObject();
        foreach (var type in mediaTypes)
        {
            content[type] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/" + schema } };
        }

        return content;
    }

    private static JsonObject Components(OpenApiInfo info, List<NetapiRoute> table)
    {
        var schemas = new JsonObject();
        foreach (var (name, json) in OpenApiSchemas.All)
        {
            schemas[name] = JsonNode.Parse(json);
        }

        var components = new JsonObject { ["schemas"] = schemas };
        if (table.Any(r => r.Session != RouteSession.None))
        {
            var schemes = new JsonObject { [TokenScheme] = Scheme("header", "X-Auth-Token", "The Salt token that /login answered") };
            if (info.SessionCookie is { } cookie)
            {
                schemes[CookieScheme] = Scheme("cookie", cookie, "The session cookie that /login set (the same Salt token)");
            }

            components["securitySchemes"] = schemes;
        }

        return components;
    }

    private static JsonObject Scheme(string where, string name, string description) =>
        new() { ["type"] = "apiKey", ["in"] = where, ["name"] = name, ["description"] = description };

    private static string OperationId(string method, string path)
    {
        var id = new StringBuilder(method.ToLowerInvariant());
        foreach (var c in path)
        {
            id.Append(char.IsAsciiLetterOrDigit(c) ? c : c == '/' ? '_' : '\0');
        }

        var text = id.Replace("\0", "").ToString().TrimEnd('_');
        return text.Contains('_', StringComparison.Ordinal) ? text : text + "_root";
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;

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
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("openapi", "3.1.0");
            w.WriteStartObject("info");
            w.WriteString("title", info.Title);
            w.WriteString("version", info.Version);
            w.WriteString("description", info.Description);
            w.WriteEndObject();
            w.WriteStartArray("servers");
            w.WriteStartObject();
            w.WriteString("url", info.ServerUrl);
            w.WriteEndObject();
            w.WriteEndArray();
            WritePaths(w, info, table);
            WriteComponents(w, info, table);
            w.WriteEndObject();
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

    private static void WritePaths(Utf8JsonWriter w, OpenApiInfo info, List<NetapiRoute> table)
    {
        var paths = new List<(string Path, List<(NetapiRoute Route, string? Arg)> Routes)>();
        foreach (var route in table)
        {
            foreach (var (path, arg) in Expand(route))
            {
                var entry = paths.FirstOrDefault(p => p.Path == path);
                if (entry.Routes is null)
                {
                    entry = (path, []);
                    paths.Add(entry);
                }

                entry.Routes.Add((route, arg));
            }
        }

        w.WriteStartObject("paths");
        foreach (var (path, routes) in paths)
        {
            w.WriteStartObject(path);
            foreach (var (route, arg) in routes)
            {
                foreach (var method in route.Methods)
                {
                    WriteOperation(w, info, route, method, path, arg);
                }
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteOperation(Utf8JsonWriter w, OpenApiInfo info, NetapiRoute route, string method, string path, string? arg)
    {
        w.WriteStartObject(method.ToLowerInvariant());
        w.WriteString("operationId", OperationId(method, path));
        w.WriteString("summary", route.Summary);
        if (route.Description is { } description)
        {
            w.WriteString("description", description);
        }

        if (arg is not null || route.Query.Count > 0)
        {
            w.WriteStartArray("parameters");
            if (arg is not null)
            {
                WriteParameter(w, arg, "path", true, route.MaxArgs > 1 ? "The rest of the path (it may hold more segments, separated by '/')" : null);
            }

            foreach (var (name, text) in route.Query)
            {
                WriteParameter(w, name, "query", false, text);
            }

            w.WriteEndArray();
        }

        WriteSecurity(w, info, route.Session);
        if (route.Bodies.Count > 0 && method != "GET" && method != "HEAD")
        {
            w.WriteStartObject("requestBody");
            w.WriteBoolean("required", route.BodyRequired);
            w.WriteStartObject("content");
            foreach (var media in route.Bodies)
            {
                w.WriteStartObject(media);
                WriteRef(w, route.BodySchema ?? OpenApiSchemas.Any);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteStartObject("responses");
        foreach (var answer in Answers(info, route))
        {
            w.WriteStartObject(answer.Status.ToString(CultureInfo.InvariantCulture));
            w.WriteString("description", answer.Description);
            var schema = answer.Schema ?? (answer.Status >= 300 ? info.ErrorSchema : null);
            var media = answer.MediaTypes ?? (answer.Schema is not null ? route.Produces : [info.ErrorMediaType]);
            if (schema is not null && method != "HEAD")
            {
                w.WriteStartObject("content");
                foreach (var type in media)
                {
                    w.WriteStartObject(type);
                    WriteRef(w, schema);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
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

    private static void WriteParameter(Utf8JsonWriter w, string name, string where, bool required, string? description)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("in", where);
        w.WriteBoolean("required", required);
        if (description is not null)
        {
            w.WriteString("description", description);
        }

        w.WriteStartObject("schema");
        w.WriteString("type", "string");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSecurity(Utf8JsonWriter w, OpenApiInfo info, RouteSession session)
    {
        w.WriteStartArray("security");
        if (session != RouteSession.None)
        {
            WriteRequirement(w, TokenScheme);
            if (info.SessionCookie is not null)
            {
                WriteRequirement(w, CookieScheme);
            }

            if (session != RouteSession.Required)
            {
                // Optional, or a stream that also takes the token as a query parameter or in its path.
                w.WriteStartObject();
                w.WriteEndObject();
            }
        }

        w.WriteEndArray();
    }

    private static void WriteRequirement(Utf8JsonWriter w, string scheme)
    {
        w.WriteStartObject();
        w.WriteStartArray(scheme);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteRef(Utf8JsonWriter w, string schema)
    {
        w.WriteStartObject("schema");
        w.WriteString("$ref", "#/components/schemas/" + schema);
        w.WriteEndObject();
    }

    private static void WriteComponents(Utf8JsonWriter w, OpenApiInfo info, List<NetapiRoute> table)
    {
        w.WriteStartObject("components");
        w.WriteStartObject("schemas");
        foreach (var (name, json) in OpenApiSchemas.All)
        {
            using var doc = JsonDocument.Parse(json);
            w.WritePropertyName(name);
            doc.RootElement.WriteTo(w);
        }

        w.WriteEndObject();
        if (table.Any(r => r.Session != RouteSession.None))
        {
            w.WriteStartObject("securitySchemes");
            WriteScheme(w, TokenScheme, "header", "X-Auth-Token", "The Salt token that /login answered");
            if (info.SessionCookie is { } cookie)
            {
                WriteScheme(w, CookieScheme, "cookie", cookie, "The session cookie that /login set (the same Salt token)");
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteScheme(Utf8JsonWriter w, string id, string where, string name, string description)
    {
        w.WriteStartObject(id);
        w.WriteString("type", "apiKey");
        w.WriteString("in", where);
        w.WriteString("name", name);
        w.WriteString("description", description);
        w.WriteEndObject();
    }

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

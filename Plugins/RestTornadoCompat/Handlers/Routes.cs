using SaltApi.NetapiKit.Routing;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestTornadoCompat.Config;
using S = SaltApi.NetapiKit.Routing.OpenApiSchemas;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>A request handler of saltnado's URL table.</summary>
internal delegate Task Handler(TornadoRequest request);

/// <summary>The handlers, made once per module; a route names its handler among them.</summary>
internal sealed record TornadoHandlers(ApiHandlers Api, StreamHandlers Streams);

/// <summary>One route of saltnado's URL table, for one method: its name (saltnado's handler), its facts and its handler.</summary>
/// <param name="Name">The entry of the URL table (<c>root</c>, <c>login</c>, ..., <c>hook</c>), as the request metrics name it.</param>
/// <param name="Spec">Path, method, session, admission, bodies, errors, answers.</param>
/// <param name="Handler">The handler among <see cref="TornadoHandlers"/>.</param>
internal sealed record TornadoRoute(string Name, NetapiRoute Spec, Func<TornadoHandlers, Handler> Handler);

/// <summary>
/// rest_tornado's URL table (<c>__init__.start</c>), one record per route and method, anchored as Tornado anchors
/// its patterns: dispatch, the gate or the login throttle, and the OpenAPI description read it. The handlers
/// inherit as saltnado's classes do: <c>POST /jobs</c> and <c>POST /events</c> are <c>POST /</c>, <c>GET /run</c>
/// and <c>GET /hook</c> are <c>GET /</c>.
/// </summary>
internal sealed class Routes(IReadOnlyList<TornadoRoute> table, TornadoHandlers handlers, int tokenLength)
{
    private static readonly string[] Get = ["GET"];
    private static readonly string[] Post = ["POST"];
    private static readonly string[] Bodies = ["application/json", "application/x-yaml", "text/yaml", "application/x-www-form-urlencoded", "text/plain"];
    private static readonly string[] Produces = ["application/json", "application/x-yaml"];
    private static readonly RouteAnswer BadBody = new(400, "The body could not be read, or a chunk's client is not one of local, local_async, runner, runner_async");
    private static readonly RouteAnswer NotAcceptable = new(406, "No answer in a media type the Accept header takes, or a body of another type");
    private static readonly RouteAnswer TooLarge = new(413, "The body is larger than max_request_body_size (1 MiB without a valid token)");
    private static readonly RouteAnswer Redirect = new(302, "Not logged in: redirected to /login");

    // The table with each route's path read once and its handler bound: matching a request allocates nothing.
    private readonly Entry[] entries = table.Select(r => new Entry(r, "/" + string.Join('/', r.Spec.Literal), r.Spec.Argument, r.Spec.MaxArgs > 1, r.Handler(handlers))).ToArray();

    /// <summary>The routes the options enable, in the order Tornado tries its patterns.</summary>
    public static IReadOnlyList<TornadoRoute> For(TornadoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hookSession = options.WebhookDisableAuth ? RouteSession.None : RouteSession.Required;
        // POST /login and POST /run wait in the login throttle: they check credentials. Their GETs check none (the
        // login prompt, always 401, and the welcome), so they take a request slot as any page: counted as failed
        // logins, a few prompts slowed every login of their address (a proxy's or a health check's).
        var routes = new List<TornadoRoute>
        {
            new("root", Data("/", Get, "The welcome: the clients rest_tornado runs", RouteSession.None, new RouteAnswer(200, "Welcome", S.Welcome)), _ => ApiHandlers.WelcomeAsync),
            new("root", Lowstate("/", "Run a lowstate with the session's token", RouteSession.Required), h => h.Api.PostAsync),
            new("login", Data("/login", Get, "The login prompt", RouteSession.None, new RouteAnswer(401, "Please log in (WWW-Authenticate: Session)", S.LoginPrompt)), _ => ApiHandlers.LoginGetAsync),
            new("login", Data("/login", Post, "Log in: a Salt token, also set as the session_id cookie", RouteSession.None, new RouteAnswer(200, "The token and its permissions", S.LoginReturn), new RouteAnswer(401, "Could not authenticate using provided credentials"), new RouteAnswer(400, "username, password and eauth are required"), TooLarge) with { Admission = RouteAdmission.Credentials, Bodies = Bodies, BodySchema = S.Credentials, BodyRequired = true }, h => h.Api.LoginPostAsync),
            new("minions", Data("/minions/{mid?}", Get, "The grains of every minion, or of one (grains.items)", RouteSession.Required, new RouteAnswer(200, "The grains by minion id", S.Return)), h => h.Api.MinionsGetAsync),
            new("minions", Lowstate("/minions", "Start jobs (local_async)", RouteSession.Required), h => h.Api.MinionsPostAsync),
            new("jobs", Data("/jobs/{jid?}", Get, "The job cache (jobs.list_jobs), or one job (jobs.list_job, as saltnado's JobsSaltAPIHandler.get)", RouteSession.Required, new RouteAnswer(200, "The jobs, or the job's returns", S.Return)), h => h.Api.JobsGetAsync),
            new("jobs", Lowstate("/jobs", "Run a lowstate (as POST /)", RouteSession.Required), h => h.Api.PostAsync),
            new("run", Data("/run", Get, "The welcome", RouteSession.None, new RouteAnswer(200, "Welcome", S.Welcome)), _ => ApiHandlers.WelcomeAsync),
            new("run", Lowstate("/run", "Run a lowstate whose chunks carry their own token or eauth credentials", RouteSession.None) with { Admission = RouteAdmission.Credentials }, h => h.Api.RunAsync),
            new("events", Stream("/events", "The event bus as Server-Sent Events", new RouteAnswer(200, "The events (tag and data)", S.Text, ["text/event-stream"]), Redirect) with { Query = [new("token", "A Salt token (instead of X-Auth-Token or the cookie)")] }, h => h.Streams.EventsAsync),
            new("events", Lowstate("/events", "Run a lowstate (as POST /)", RouteSession.Required), h => h.Api.PostAsync),
            new("hook", Data(options.WebhookUrl + "/{**tag}", Get, "The welcome", RouteSession.None, new RouteAnswer(200, "Welcome", S.Welcome)), _ => ApiHandlers.WelcomeAsync),
            new("hook", Data(options.WebhookUrl + "/{**tag}", Post, "Fire an event on the master's bus, tagged salt/netapi/hook/<path>, with the body, query and headers as its data", hookSession, new RouteAnswer(200, "Whether the event was fired", S.HookReturn), BadBody, TooLarge) with { Bodies = Bodies, BodySchema = S.Any }, h => h.Streams.HookAsync),
        };
        if (options.Websockets)
        {
            routes.Add(new("all_events", Stream("/all_events/{token}", "The event bus over a WebSocket (upgrade required)", new RouteAnswer(101, "Switching protocols: the events, one message each"), new RouteAnswer(400, "Can \"Upgrade\" only to \"WebSocket\"."), new RouteAnswer(401, "The token is not valid")), h => h.Streams.AllEventsAsync));
            routes.Add(new("formatted_events", Stream("/formatted_events/{token}", "The event bus over a WebSocket, formatted as SaltGUI's salt-info (upgrade required)", new RouteAnswer(101, "Switching protocols: the events, one message each"), new RouteAnswer(400, "Can \"Upgrade\" only to \"WebSocket\"."), new RouteAnswer(401, "The token is not valid")), h => h.Streams.FormattedEventsAsync));
        }

        return routes;
    }

    /// <summary>The description of the routes the options enable.</summary>
    public static byte[] OpenApi(TornadoOptions options) => OpenApiDocument.Write(
        new OpenApiInfo("rest_tornado", "3006.0", "Salt's rest_tornado (saltnado) netapi module. Log in at POST /login (username, password, eauth); send the token as the X-Auth-Token header or keep the session_id cookie. A request that needs a session and has none is redirected to /login (302). Bodies are JSON, YAML or form data; answers are JSON or YAML, as the Accept header asks. Errors are Tornado's HTML error pages.")
        {
            Unauthenticated = Redirect,
            CommonAnswers = [new RouteAnswer(403, "authorized_ips refuses the address, or a request with only the session cookie came from another origin")],
        },
        For(options).Select(r => r.Spec));

    /// <summary>
    /// The entry of the URL table that <paramref name="path"/> is, its path argument, and its route for
    /// <paramref name="method"/> (null: Tornado's 405); null when no entry is (Tornado's 404).
    /// </summary>
    public (string Name, string? Arg, Entry? Route)? Match(string path, string method)
    {
        foreach (var entry in entries)
        {
            if (TryArgument(entry, path, out var arg))
            {
                // Every route of that name shares the path; the method picks one of them.
                var name = entry.Route.Name;
                return (name, arg, entries.FirstOrDefault(e => e.Route.Name == name && e.Route.Spec.Methods.Contains(method, StringComparer.Ordinal)));
            }
        }

        return null;
    }

    // Whether the path is the route's, and its argument (null without one). `{x?}`: the rest after "/name/";
    // `{**x}`: the rest with its leading '/' (Tornado's `/hook(/.*)?`); `{token}`: a token of exactly the hex
    // length of the master's hash_type (the websockets).
    private bool TryArgument(Entry e, string path, out string? arg)
    {
        arg = null;
        var optional = e.RestOfPath || e.Argument.EndsWith("?}", StringComparison.Ordinal);
        if (path == e.Literal)
        {
            return e.Argument.Length == 0 || optional;
        }

        if (e.Argument.Length == 0 || e.Literal == "/" || !path.StartsWith(e.Literal, StringComparison.Ordinal) || path.Length <= e.Literal.Length || path[e.Literal.Length] != '/')
        {
            return false;
        }

        arg = e.RestOfPath ? path[e.Literal.Length..] : path[(e.Literal.Length + 1)..];
        return optional || TokenCheck.IsTokenText(arg, tokenLength);
    }

    /// <summary>A route's template as saltnado's URL table has it, for the request metrics (never the raw path).</summary>
    public static string Template(string name, bool withArg) => name switch
    {
        "root" => "/",
        _ when !withArg => "/" + name,
        "minions" => "/minions/{mid}",
        "jobs" => "/jobs/{jid}",
        "hook" => "/hook/{tag}",
        _ => "/" + name + "/{token}",
    };

    /// <summary>The hex length of a digest of <c>hash_type</c> (Salt's default sha256: 64).</summary>
    public static int HexLength(string? hashType) => hashType?.ToLowerInvariant() switch
    {
        "md5" => 32,
        "sha1" => 40,
        "sha224" => 56,
        "sha384" => 96,
        "sha512" => 128,
        _ => 64,
    };

    private static NetapiRoute Data(string path, string[] methods, string summary, RouteSession session, params RouteAnswer[] answers) =>
        new(path, methods, summary) { Session = session, Errors = RouteErrors.AsHttpError, Produces = Produces, Answers = [.. answers, NotAcceptable] };

    private static NetapiRoute Lowstate(string path, string summary, RouteSession session) =>
        Data(path, Post, summary, session, new RouteAnswer(200, "One result per chunk", S.Return), BadBody, TooLarge) with { Bodies = Bodies, BodySchema = S.Lowstate, BodyRequired = true };

    private static NetapiRoute Stream(string path, string summary, params RouteAnswer[] answers) =>
        new(path, Get, summary) { Session = RouteSession.OwnCheck, Admission = RouteAdmission.Stream, Errors = RouteErrors.AsHttpError, Produces = [], Answers = answers };

    /// <summary>A route as matched: its literal path, its argument's template, and its handler.</summary>
    internal sealed record Entry(TornadoRoute Route, string Literal, string Argument, bool RestOfPath, Handler Handler);
}

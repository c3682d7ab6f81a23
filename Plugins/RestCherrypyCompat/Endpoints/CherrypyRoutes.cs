using SaltApi.NetapiKit.Routing;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using S = SaltApi.NetapiKit.Routing.OpenApiSchemas;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary>The resources' handlers, made once per module; a route names its handler among them.</summary>
internal sealed record CherrypyHandlers(RootEndpoints Root, AuthEndpoints Auth, MinionsEndpoints Minions, JobsEndpoints Jobs, KeysEndpoints Keys, EventsEndpoint Events, WebSocketEndpoint WebSocket, HookEndpoint Hook, StaticEndpoints Statics);

/// <summary>One route of rest_cherrypy: the resource (CherryPy's class), its facts, and the handler of its methods.</summary>
/// <param name="Resource">The resource: routes of one resource share its path, its Allow header and its 404/405.</param>
/// <param name="Spec">Path, methods, session, admission, bodies, errors, answers.</param>
/// <param name="Handler">The handler among <see cref="CherrypyHandlers"/>.</param>
internal sealed record CherrypyRoute(Resource Resource, NetapiRoute Spec, Func<CherrypyHandlers, Func<Call, Task>> Handler)
{
    /// <summary>The most extra path segments the route takes (read once: the dispatcher asks on every request).</summary>
    public int MaxArgs { get; } = Spec.MaxArgs;

    /// <summary>CherryPy resolves the URL tree's own names first, then webhook_url, then app_path.</summary>
    public int Order => Resource switch
    {
        Resource.Hook => 2,
        Resource.App => 4,
        _ => 0,
    };
}

/// <summary>
/// rest_cherrypy's URL tree (spec/05 §2), one record per route: the pipeline's routing, its 404/405, its gate and
/// session steps, and the OpenAPI description all read this table. Adding a route is adding a row here.
/// </summary>
internal static class CherrypyRoutes
{
    private static readonly string[] Get = ["GET", "HEAD"];
    private static readonly string[] Post = ["POST"];

    // rest_cherrypy's hypermedia_in: the bodies every data resource reads; its output is negotiated (hypermedia_out).
    private static readonly string[] Bodies = ["application/json", "application/x-yaml", "text/yaml", "application/x-www-form-urlencoded"];
    private static readonly string[] Produces = ["application/json", "application/x-yaml"];

    private static readonly RouteAnswer BadBody = new(400, "The body could not be read (malformed JSON or YAML, not a lowstate)");
    private static readonly RouteAnswer NotAcceptable = new(406, "No answer in a media type the Accept header takes");
    private static readonly RouteAnswer TooLarge = new(413, "The body is larger than max_request_body_size (1 MiB without a valid session)");
    private static readonly RouteAnswer Refused = new(401, "Could not authenticate using provided credentials");

    /// <summary>The routes the options enable, in the order of the URL tree.</summary>
    public static IReadOnlyList<CherrypyRoute> Table(CherrypyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var routes = new List<CherrypyRoute>
        {
            new(Resource.Root, Data("/", Get, "The welcome: the clients this API runs", RouteSession.None, new RouteAnswer(200, "Welcome", S.Welcome)), h => h.Root.WelcomeAsync),
            new(Resource.Root, Lowstate("/", "Run a lowstate with the session's token", RouteSession.Required, new RouteAnswer(200, "One result per chunk", S.Return)), h => h.Root.LowstateAsync),
        };
        if (options.EnableSessions)
        {
            routes.AddRange(
            [
                new(Resource.Login, Data("/login", Get, "The login prompt", RouteSession.Optional, new RouteAnswer(200, "Please log in (WWW-Authenticate: Session)", S.LoginPrompt)), _ => AuthEndpoints.PromptAsync),
                new(Resource.Login, Credentials("/login", "Log in: a Salt token, also set as the session_id cookie", S.Credentials, RouteSession.Optional, new RouteAnswer(200, "The token and its permissions (X-Auth-Token and the session_id cookie)", S.LoginReturn)), h => h.Auth.LoginAsync),
                new(Resource.Logout, Data("/logout", Get, "Not a logout: only POST ends the session", RouteSession.Required, new RouteAnswer(405, "Method not allowed (Allow: POST)")), _ => AuthEndpoints.LogoutGetAsync),
                new(Resource.Logout, Data("/logout", Post, "End the session (the token is removed)", RouteSession.Required, new RouteAnswer(200, "Your token has been cleared", S.Logout)), h => h.Auth.LogoutAsync),
                new(Resource.Minions, Data("/minions/{mid?}", Get, "The grains of every minion, or of one (grains.items)", RouteSession.Required, new RouteAnswer(200, "The grains by minion id", S.Return)), h => h.Minions.GetAsync),
                new(Resource.Minions, Lowstate("/minions", "Start jobs (each chunk as local_async)", RouteSession.Required, new RouteAnswer(202, "The jobs' jids and minions, and links to them", S.JobLinks)), h => h.Minions.PostAsync),
                new(Resource.Jobs, Data("/jobs/{jid?}", Get, "The job cache (jobs.list_jobs), or one job's info and returns (jobs.list_job)", RouteSession.Required, new RouteAnswer(200, "The jobs, or the job", S.JobReturn)), h => h.Jobs.GetAsync),
                new(Resource.Jobs, Lowstate("/jobs", "Run a lowstate (as POST /)", RouteSession.Required, new RouteAnswer(200, "One result per chunk", S.Return)), h => h.Root.LowstateAsync),
            ]);
        }

        routes.AddRange(
        [
            new(Resource.Token, Data("/token", Get, "The welcome", RouteSession.None, new RouteAnswer(200, "Welcome", S.Welcome)), h => h.Root.WelcomeAsync),
            new(Resource.Token, Credentials("/token", "A Salt token for the credentials, without a session", S.Credentials, RouteSession.None, new RouteAnswer(200, "The master's token records", S.TokenList)), h => h.Auth.TokenAsync),
            new(Resource.Run, Data("/run", Get, "The welcome", RouteSession.None, new RouteAnswer(200, "Welcome", S.Welcome)), h => h.Root.WelcomeAsync),
            new(Resource.Run, Credentials("/run", "Run a lowstate whose chunks carry their own token or eauth credentials (no session)", S.LowstateOrChunk, RouteSession.None, new RouteAnswer(200, "One result per chunk", S.Return)), h => h.Root.RunAsync),
            new(Resource.Keys, Data("/keys/{mid?}", Get, "The minion keys (key.list_all), or one minion's (key.finger)", RouteSession.Optional, new RouteAnswer(200, "The keys", S.Return), new RouteAnswer(401, "Neither a session nor credentials")), h => h.Keys.GetAsync),
            new(Resource.Keys, Credentials("/keys", "Generate and accept a minion's key pair (mid, keysize, force, and credentials)", S.Any, RouteSession.None, new RouteAnswer(200, "The keys as a tarball", S.Binary, ["application/x-tar"])) with { Errors = RouteErrors.AsHttpError, Produces = [], BodyRequired = true }, h => h.Keys.PostAsync),
            new(Resource.Events, Stream("/events", "The event bus as Server-Sent Events", new RouteAnswer(200, "The events, one `data:` line each (tag and data)", S.Text, ["text/event-stream"])) with { Query = [new("token", "A Salt token (instead of X-Auth-Token or the cookie)"), new("salt_token", "A Salt token, as token")] }, h => h.Events.StreamAsync),
            new(Resource.WebSocket, Stream("/ws/{token?}", "The event bus over a WebSocket (upgrade required)", new RouteAnswer(101, "Switching protocols: the events, one message each"), new RouteAnswer(400, "WebSocket upgrade required")) with { Query = [new("format_events", "Format the events as SaltGUI's salt-info")] }, h => h.WebSocket.ServeAsync),
            new(Resource.Stats, Data("/stats", Get, "CherryPy's server statistics (cpstats)", options.StatsDisableAuth ? RouteSession.Optional : RouteSession.Required, new RouteAnswer(200, "The statistics", S.Stats)), h => h.Root.StatsAsync),
        ]);
        if (options.WebhookUrl.Length > 0)
        {
            var hook = Data(options.WebhookUrl + "/{**tag}", Post, "Fire an event on the master's bus, tagged salt/netapi/<path>, with the body as its data", options.WebhookDisableAuth ? RouteSession.Optional : RouteSession.Required, new RouteAnswer(200, "Whether the event was fired", S.HookReturn), BadBody, TooLarge);
            routes.Add(new(Resource.Hook, hook with { Bodies = [.. Bodies, "text/plain"], BodySchema = S.Any }, h => h.Hook.PostAsync));
        }

        if (options.AppPath.Length > 0)
        {
            routes.Add(new(Resource.App, new NetapiRoute(options.AppPath + "/{**rest}", Get, "The single-page application (app: its HTML file at every path below)")
            {
                Errors = RouteErrors.AsHttpError,
                Produces = [],
                Answers = [new(200, "The application's HTML", S.Text, ["text/html"]), new RouteAnswer(404, "No app file is configured")],
            }, h => h.Statics.AppAsync));
        }

        return routes;
    }

    /// <summary>The description of the routes the options enable.</summary>
    public static byte[] OpenApi(CherrypyOptions options) => OpenApiDocument.Write(
        new OpenApiInfo("rest_cherrypy", CherrypyServices.SaltVersion, "Salt's rest_cherrypy netapi module. Log in at POST /login (username, password, eauth); send the token as the X-Auth-Token header or keep the session_id cookie. Bodies are JSON, YAML or form data; answers are JSON or YAML, as the Accept header asks. Errors are CherryPy's HTML error pages, with Salt's status codes.")
        {
            ServerUrl = options.RootPrefix.Length == 0 ? "/" : options.RootPrefix,
            CommonAnswers = [new RouteAnswer(403, "authorized_ips refuses the address, or a request with only the session cookie came from another origin")],
        },
        Table(options).Select(r => r.Spec));

    private static NetapiRoute Data(string path, string[] methods, string summary, RouteSession session, params RouteAnswer[] answers) =>
        new(path, methods, summary) { Session = session, Produces = Produces, Answers = [.. answers, NotAcceptable] };

    private static NetapiRoute Lowstate(string path, string summary, RouteSession session, RouteAnswer ok) =>
        Data(path, Post, summary, session, ok, BadBody, TooLarge) with { Bodies = Bodies, BodySchema = S.LowstateOrChunk, BodyRequired = true };

    private static NetapiRoute Credentials(string path, string summary, string body, RouteSession session, RouteAnswer ok) =>
        Data(path, Post, summary, session, ok, Refused, BadBody, TooLarge) with { Admission = RouteAdmission.Credentials, Bodies = Bodies, BodySchema = body, BodyRequired = true };

    private static NetapiRoute Stream(string path, string summary, params RouteAnswer[] answers) =>
        new(path, Get, summary) { Session = RouteSession.OwnCheck, Admission = RouteAdmission.Stream, Errors = RouteErrors.AsHttpError, Produces = [], Answers = [.. answers, new RouteAnswer(401, "No valid token")] };
}

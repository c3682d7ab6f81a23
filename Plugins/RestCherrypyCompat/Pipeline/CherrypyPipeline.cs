using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;

namespace SaltApi.Plugins.RestCherrypyCompat.Pipeline;

/// <summary>
/// The rest_cherrypy application (spec/05 §3): the steps every request walks, one concern each, then
/// ASP.NET Core routing over rest_cherrypy's URL tree (§2) to the resources (§6).
/// </summary>
internal static class CherrypyPipeline
{
    private static readonly string[] GetHeadMethods = ["GET", "HEAD"];
    private static readonly string[] PostMethods = ["POST"];

    /// <summary>Adds the steps and the routes to <paramref name="web"/>; dispose the result when the module stops.</summary>
    public static CherrypyServices Use(WebApplication web, CherrypyOptions options, INetapiClient client, IEventStream events, ILogger logger, TimeProvider time)
    {
        var api = new CherrypyServices(options, client, events, logger, time);
        var statics = new StaticEndpoints(options);

        // In CherryPy's order: the answer's frame (gzip around everything, the error pages too), the path, CORS, static files, the dispatcher's 404/405,
        // the body and the worker pool, the session tools, the IP check; then the resource.
        web.Use(new RequestObserver(api).InvokeAsync);
        web.UseResponseCompression();
        web.Use(new ErrorResponses(api).InvokeAsync);
        web.Use(new RootPrefix(api).InvokeAsync);
        web.Use(new Cors(options).InvokeAsync);
        web.Use(statics.InvokeAsync);
        web.UseRouting();
        web.Use(ResourceCheck.InvokeAsync);
        web.Use(new Gate(api).InvokeAsync);
        web.Use(new SessionTool(api).InvokeAsync);
        web.Use(new AuthorizedIps(options).InvokeAsync);
        MapRoutes(web, api, statics);
        return api;
    }

    private static void MapRoutes(IEndpointRouteBuilder routes, CherrypyServices api, StaticEndpoints statics)
    {
        var options = api.Options;
        var root = new RootEndpoints(api);
        var auth = new AuthEndpoints(api);
        var minions = new MinionsEndpoints(api);
        var jobs = new JobsEndpoints(api);
        var keys = new KeysEndpoints(api);

        // CherryPy resolves the URL tree's own names first, then webhook_url, then app_path.
        const int Builtin = 0, Hook = 2, App = 4;
        new Routes(routes, Resource.Root, "", Builtin).Get("", root.WelcomeAsync).Post("", root.LowstateAsync);
        if (options.EnableSessions)
        {
            new Routes(routes, Resource.Login, "login", Builtin).Get("", AuthEndpoints.PromptAsync).Post("", auth.LoginAsync);
            new Routes(routes, Resource.Logout, "logout", Builtin).Get("", AuthEndpoints.LogoutGetAsync).Post("", auth.LogoutAsync);
            new Routes(routes, Resource.Minions, "minions", Builtin).Get("{mid?}", minions.GetAsync).Post("", minions.PostAsync);
            new Routes(routes, Resource.Jobs, "jobs", Builtin).Get("{jid?}", jobs.GetAsync).Post("", root.LowstateAsync);
        }

        new Routes(routes, Resource.Token, "token", Builtin).Get("", root.WelcomeAsync).Post("", auth.TokenAsync);
        new Routes(routes, Resource.Run, "run", Builtin).Get("", root.WelcomeAsync).Post("", root.RunAsync);
        new Routes(routes, Resource.Keys, "keys", Builtin).Get("{mid?}", keys.GetAsync).Post("", keys.PostAsync);
        new Routes(routes, Resource.Events, "events", Builtin).Get("", new EventsEndpoint(api).StreamAsync);
        new Routes(routes, Resource.WebSocket, "ws", Builtin).Get("{token?}", new WebSocketEndpoint(api).ServeAsync);
        new Routes(routes, Resource.Stats, "stats", Builtin).Get("", root.StatsAsync);
        if (options.WebhookUrl.Length > 0)
        {
            new Routes(routes, Resource.Hook, options.WebhookUrl, Hook).Post("{**tag}", new HookEndpoint(api).PostAsync);
        }

        if (options.AppPath.Length > 0)
        {
            new Routes(routes, Resource.App, options.AppPath, App).Get("{**rest}", statics.AppAsync);
        }
    }

    /// <summary>
    /// One resource's endpoints under its path, each carrying <see cref="ResourceEndpoint"/>, and the
    /// catch-all for the resource's other paths and methods, answered by <see cref="ResourceCheck"/>
    /// (CherryPy's 405 with the resource's Allow, or 404).
    /// </summary>
    private sealed class Routes
    {
        private readonly IEndpointRouteBuilder routes;
        private readonly ResourceEndpoint meta;
        private readonly string basePattern;
        private readonly int order;

        public Routes(IEndpointRouteBuilder routes, Resource resource, string path, int order)
        {
            this.routes = routes;
            this.order = order;
            var literal = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            meta = new ResourceEndpoint(resource, literal);
            basePattern = string.Concat(literal.Select(s => "/" + PatternLiteral(s)));
            Add(basePattern.Length == 0 ? "/" : basePattern + "/{**rest}", null, _ => throw new InvalidOperationException("answered by ResourceCheck"), order + 1);
        }

        public Routes Get(string rest, Func<Call, Task> handler) => Add(Pattern(rest), GetHeadMethods, handler, order);

        public Routes Post(string rest, Func<Call, Task> handler) => Add(Pattern(rest), PostMethods, handler, order);

        private string Pattern(string rest) => rest.Length == 0 ? (basePattern.Length == 0 ? "/" : basePattern) : basePattern + "/" + rest;

        private Routes Add(string pattern, string[]? methods, Func<Call, Task> handler, int endpointOrder)
        {
            RequestDelegate run = ctx => handler(Call.Of(ctx));
            var endpoint = methods is null ? routes.Map(pattern, run) : routes.MapMethods(pattern, methods, run);
            endpoint.WithMetadata(meta).WithOrder(endpointOrder);
            return this;
        }

        // A configured path segment as a route literal: escaped as RootPrefix escapes the request's
        // segments, braces doubled (route syntax).
        private static string PatternLiteral(string segment) =>
            RootPrefix.Escape(segment).Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Access;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Http;

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
        // As salt_ip_verify_tool: with authorized_ips set, other addresses get 403 "Bad IP".
        web.Use((ctx, next) => AuthorizedIps.Allows(options.AuthorizedIps, ctx) ? next(ctx) : throw new HttpError(403, "Bad IP"));
        MapRoutes(web, api, statics);
        return api;
    }

    // Each resource of the table (CherrypyRoutes): its routes' endpoints under its path, each carrying the
    // resource's ResourceEndpoint, and a catch-all for its other paths and methods, answered by ResourceCheck
    // (CherryPy's 405 with the resource's Allow, or 404).
    private static void MapRoutes(IEndpointRouteBuilder routes, CherrypyServices api, StaticEndpoints statics)
    {
        var handlers = new CherrypyHandlers(new RootEndpoints(api), new AuthEndpoints(api), new MinionsEndpoints(api), new JobsEndpoints(api), new KeysEndpoints(api), new EventsEndpoint(api), new WebSocketEndpoint(api), new HookEndpoint(api), statics);
        foreach (var resource in CherrypyRoutes.Table(api.Options).GroupBy(r => r.Resource))
        {
            var first = resource.First();
            var meta = new ResourceEndpoint(resource.Key, first.Spec.Literal, resource.ToList());
            var basePattern = string.Concat(meta.Literal.Select(s => "/" + PatternLiteral(s)));
            Map(routes, basePattern.Length == 0 ? "/" : basePattern + "/{**rest}", null, _ => throw new InvalidOperationException("answered by ResourceCheck"), meta, first.Order + 1);
            foreach (var route in resource)
            {
                var pattern = route.Spec.Argument.Length == 0 ? (basePattern.Length == 0 ? "/" : basePattern) : basePattern + "/" + route.Spec.Argument;
                var methods = route.Spec.Methods.Contains("GET") ? GetHeadMethods : PostMethods;
                Map(routes, pattern, methods, route.Handler(handlers), meta, route.Order);
            }
        }
    }

    private static void Map(IEndpointRouteBuilder routes, string pattern, string[]? methods, Func<Call, Task> handler, ResourceEndpoint meta, int order)
    {
        RequestDelegate run = ctx => handler(Call.Of(ctx));
        var endpoint = methods is null ? routes.Map(pattern, run) : routes.MapMethods(pattern, methods, run);
        endpoint.WithMetadata(meta).WithOrder(order);
    }

    // A configured path segment as a route literal: escaped as RootPrefix escapes the request's
    // segments, braces doubled (route syntax).
    private static string PatternLiteral(string segment) =>
        RootPrefix.Escape(segment).Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);
}

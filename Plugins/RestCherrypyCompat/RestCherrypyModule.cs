using SaltApi.NetapiKit.Hosting;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Pipeline;

namespace SaltApi.Plugins.RestCherrypyCompat;

/// <summary>Salt's rest_cherrypy module, wire-compatible, on Kestrel.</summary>
public sealed class RestCherrypyModule() : NetapiModule("rest_cherrypy")
{
    /// <inheritdoc/>
    protected override ModuleHostOptions Host(IReadOnlyDictionary<string, object?> section)
    {
        var options = CherrypyOptions.Bind(section);
        return new ModuleHostOptions(options.Listener, (web, ctx) => CherrypyPipeline.Use(web, options, ctx.Client, ctx.Events, ctx.Logger, TimeProvider.System))
        {
            WebSockets = true,
            Configure = builder => Gzip.AddTo(builder.Services),
            OpenApi = () => CherrypyRoutes.OpenApi(options),
        };
    }
}

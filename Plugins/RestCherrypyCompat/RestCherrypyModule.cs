using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Hosting;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Endpoints;
using SaltApi.Plugins.RestCherrypyCompat.Pipeline;

namespace SaltApi.Plugins.RestCherrypyCompat;

/// <summary>Salt's rest_cherrypy module, wire-compatible, on Kestrel.</summary>
public sealed class RestCherrypyModule : INetapiModule
{
    /// <inheritdoc/>
    public string ConfigKey => "rest_cherrypy";

    /// <summary>As rest_cherrypy's __virtual__ (a <c>port</c>), then every option checked before start.</summary>
    public string? CheckConfig(IReadOnlyDictionary<string, object?> section) => NetapiModuleHost.CheckSection(ConfigKey, section, s => CherrypyOptions.Bind(s));

    /// <inheritdoc/>
    public Task RunAsync(NetapiModuleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = CherrypyOptions.Bind(context.Section);
        var host = new ModuleHostOptions(options.Listener)
        {
            WebSockets = true,
            Configure = builder => Gzip.AddTo(builder.Services),
            OpenApi = () => CherrypyRoutes.OpenApi(options),
        };
        return NetapiModuleHost.RunAsync(context, host, (web, ctx) => CherrypyPipeline.Use(web, options, ctx.Client, ctx.Events, ctx.Logger, TimeProvider.System));
    }
}

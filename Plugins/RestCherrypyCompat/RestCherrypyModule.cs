using SaltApi.Abstractions.Hosting;
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
        // Requests are bounded by the gate (thread_pool running + queue_size waiting); connections (idle
        // keep-alives, event streams) by a generous multiple of that.
        var listener = new ListenerOptions(options.Host, options.Port, MaxRequestBodySize: options.MaxRequestBodySize, MinimumTls: options.SslMinVersion, MaxConnections: options.MaxConnections)
        {
            MaxConnectionsPerAddress = options.MaxConnectionsPerAddress,
            UnboundedAddresses = options.Front.TrustedProxies,
        };
        var host = new ModuleHostOptions(ConfigKey, options.Front, listener)
        {
            // As Salt's rest_cherrypy: TLS is on by default and needs a certificate and its key.
            Tls = options.DisableSsl ? null : new TlsFiles(options.SslCrt, options.SslKey, options.SslChain),
            Warnings = options.Warnings,
            Debug = options.Debug,
            WebSockets = true,
            Configure = builder => Gzip.AddTo(builder.Services),
            OpenApi = options.OpenApi ? CherrypyRoutes.OpenApi(options) : default(ReadOnlyMemory<byte>?),
        };
        return NetapiModuleHost.RunAsync(context, host, (web, ctx) => CherrypyPipeline.Use(web, options, ctx.Client, ctx.Events, ctx.Logger, TimeProvider.System));
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Hosting;
using SaltApi.Plugins.RestTornadoCompat.Config;
using SaltApi.Plugins.RestTornadoCompat.Handlers;

namespace SaltApi.Plugins.RestTornadoCompat;

/// <summary>Salt's rest_tornado module (saltnado), wire-compatible, on Kestrel.</summary>
public sealed class RestTornadoModule : INetapiModule
{
    /// <inheritdoc/>
    public string ConfigKey => "rest_tornado";

    /// <summary>As rest_tornado's __virtual__ (a <c>port</c>), then every option checked before start.</summary>
    public string? CheckConfig(IReadOnlyDictionary<string, object?> section) => NetapiModuleHost.CheckSection(ConfigKey, section, s => TornadoOptions.Bind(s));

    /// <inheritdoc/>
    public Task RunAsync(NetapiModuleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = TornadoOptions.Bind(context.Section);
        if (options.NumProcesses != 1)
        {
            // Tornado forks num_processes servers; one process of ours serves every core.
            context.Logger.LogInformation("rest_tornado: num_processes {Count} is ignored: one process serves all requests", options.NumProcesses);
        }

        var host = new ModuleHostOptions(options.Listener)
        {
            WebSockets = true,
            Configure = builder => builder.Services.Configure<SocketTransportOptions>(o => o.Backlog = options.Backlog),
            OpenApi = () => Routes.OpenApi(options),
        };
        return NetapiModuleHost.RunAsync(context, host, (web, ctx) => Use(web, options, ctx, webSockets: false));
    }

    /// <summary>
    /// saltnado on <paramref name="web"/>: every request to <see cref="Saltnado"/>. <paramref name="webSockets"/> turns
    /// WebSockets on first (<see cref="NetapiModuleHost"/> does it for the module).
    /// </summary>
    internal static Saltnado Use(WebApplication web, TornadoOptions options, NetapiModuleContext context, bool webSockets = true)
    {
        if (webSockets)
        {
            BatchingUpgradeFeature.Use(web);
            web.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        }

        var app = new Saltnado(options, context.Client, context.Events, context.Logger, TimeProvider.System, context.MasterConfig.GetValueOrDefault("hash_type") as string, context.Stopping);
        web.Run(app.InvokeAsync);
        return app;
    }
}

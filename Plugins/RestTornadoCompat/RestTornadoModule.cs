using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Hosting;
using SaltApi.Plugins.RestTornadoCompat.Config;
using SaltApi.Plugins.RestTornadoCompat.Handlers;

namespace SaltApi.Plugins.RestTornadoCompat;

/// <summary>Salt's rest_tornado module (saltnado), wire-compatible, on Kestrel.</summary>
public sealed class RestTornadoModule() : NetapiModule("rest_tornado")
{
    /// <inheritdoc/>
    protected override ModuleHostOptions Host(IReadOnlyDictionary<string, object?> section)
    {
        var options = TornadoOptions.Bind(section);
        return new ModuleHostOptions(options.Listener, (web, ctx) => Use(web, options, ctx))
        {
            WebSockets = true,
            Configure = builder => builder.Services.Configure<SocketTransportOptions>(o => o.Backlog = options.Backlog),
            OpenApi = () => Routes.OpenApi(options),
        };
    }

    /// <summary>saltnado on <paramref name="web"/>: every request to <see cref="Saltnado"/>.</summary>
    internal static Saltnado Use(WebApplication web, TornadoOptions options, NetapiModuleContext context)
    {
        if (options.NumProcesses != 1)
        {
            // Tornado forks num_processes servers; one process of ours serves every core.
            context.Logger.LogInformation("rest_tornado: num_processes {Count} is ignored: one process serves all requests", options.NumProcesses);
        }

        var app = new Saltnado(options, context.Client, context.Events, context.Logger, TimeProvider.System, context.MasterConfig.GetValueOrDefault("hash_type") as string, context.Stopping);
        web.Run(app.InvokeAsync);
        return app;
    }
}

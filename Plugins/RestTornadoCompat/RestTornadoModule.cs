using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;
using SaltApi.Plugins.RestTornadoCompat.Config;
using SaltApi.Plugins.RestTornadoCompat.Handlers;

namespace SaltApi.Plugins.RestTornadoCompat;

/// <summary>Salt's rest_tornado module (saltnado), wire-compatible, on Kestrel.</summary>
public sealed class RestTornadoModule : INetapiModule
{
    /// <inheritdoc/>
    public string ConfigKey => "rest_tornado";

    /// <summary>As rest_tornado's __virtual__ (a <c>port</c>), then every option checked before start.</summary>
    public string? CheckConfig(IReadOnlyDictionary<string, object?> section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (!section.ContainsKey("port"))
        {
            return $"Not loading '{ConfigKey}'. 'port' not specified in config";
        }

        TornadoOptions.Bind(section);
        return null;
    }

    /// <inheritdoc/>
    public async Task RunAsync(NetapiModuleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = TornadoOptions.Bind(context.Section);
        foreach (var warning in options.Warnings)
        {
            context.Logger.LogWarning("{Key}: {Message}", warning.Key, warning.Message);
        }

        X509Certificate2? certificate = null;
        if (!options.DisableSsl)
        {
            // As rest_tornado's start(): TLS is on by default and needs ssl_crt (the key may be in it).
            if (string.IsNullOrEmpty(options.SslCrt))
            {
                context.Logger.LogError("Not starting '{Module}'. Options 'ssl_crt' and 'ssl_key' are required if SSL is not disabled.", ConfigKey);
                await WaitForStopAsync(context.Stopping);
                return;
            }

            foreach (var file in new[] { options.SslCrt, options.SslKey }.Where(f => !string.IsNullOrEmpty(f)))
            {
                if (!File.Exists(file))
                {
                    context.Logger.LogError("Not starting '{Module}'. Could not find a certificate: {Path}", ConfigKey, file);
                    await WaitForStopAsync(context.Stopping);
                    return;
                }
            }

            try
            {
                certificate = LoadCertificate(options);
            }
            catch (CryptographicException e)
            {
                // A wrong certificate is the operator's to fix: said once, not retried in a restart loop.
                context.Logger.LogError("Not starting '{Module}'. Could not load the certificate {Path}: {Message}", ConfigKey, options.SslCrt, e.Message);
                await WaitForStopAsync(context.Stopping);
                return;
            }
        }

        if (options.NumProcesses != 1)
        {
            // Tornado forks num_processes servers; one process of ours serves every core.
            context.Logger.LogInformation("rest_tornado: num_processes {Count} is ignored: one process serves all requests", options.NumProcesses);
        }

        await using var front = HttpFront.Open(context, options.Front);
        context = front.Context;
        var listener = new ListenerOptions(
            options.Address,
            options.Port,
            MaxRequestBodySize: options.MaxRequestBodySize,
            Certificate: certificate,
            MaxConnections: options.MaxConnections)
        {
            MaxConnectionsPerAddress = options.MaxConnectionsPerAddress,
            UnboundedAddresses = options.Front.TrustedProxies,
        };
        var builder = NetapiWebHost.CreateBuilder(context, listener);
        front.Apply(builder);
        builder.Logging.SetMinimumLevel(options.Debug ? LogLevel.Debug : LogLevel.Warning);
        builder.Services.Configure<SocketTransportOptions>(o => o.Backlog = options.Backlog);
        await using var web = builder.Build();
        using var app = Use(web, options, context);
        await web.StartAsync(context.Stopping);
        if (context.Logger.IsEnabled(LogLevel.Information))
        {
            context.Logger.LogInformation("rest_tornado listening on {Urls}", string.Join(", ", web.Urls));
        }

        await WaitForStopAsync(context.Stopping);
        using var drain = new CancellationTokenSource(context.StopTimeout);
        await web.StopAsync(drain.Token);
    }

    /// <summary>
    /// saltnado on <paramref name="web"/>: WebSockets (their connection able to take one hand-off of events in one
    /// write, so it is wrapped before <c>UseWebSockets</c>), then every request to <see cref="Saltnado"/>.
    /// </summary>
    internal static Saltnado Use(WebApplication web, TornadoOptions options, NetapiModuleContext context)
    {
        BatchingUpgradeFeature.Use(web);
        web.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        var app = new Saltnado(options, context.Client, context.Events, context.Logger, TimeProvider.System, context.MasterConfig.GetValueOrDefault("hash_type") as string, context.Stopping);
        web.Run(app.InvokeAsync);
        return app;
    }

    private static X509Certificate2 LoadCertificate(TornadoOptions options)
    {
        using var cert = X509Certificate2.CreateFromPemFile(options.SslCrt!, string.IsNullOrEmpty(options.SslKey) ? null : options.SslKey);
        // Export/re-import so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    private static async Task WaitForStopAsync(CancellationToken stopping)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, stopping);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

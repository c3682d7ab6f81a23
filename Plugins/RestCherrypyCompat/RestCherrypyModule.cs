using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Pipeline;

namespace SaltApi.Plugins.RestCherrypyCompat;

/// <summary>Salt's rest_cherrypy module, wire-compatible, on Kestrel.</summary>
public sealed class RestCherrypyModule : INetapiModule
{
    /// <inheritdoc/>
    public string ConfigKey => "rest_cherrypy";

    /// <summary>As rest_cherrypy's __virtual__ (a <c>port</c>), then every option checked before start.</summary>
    public string? CheckConfig(IReadOnlyDictionary<string, object?> section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (!section.ContainsKey("port"))
        {
            return $"Not loading '{ConfigKey}'. 'port' not specified in config";
        }

        CherrypyOptions.Bind(section);
        return null;
    }

    /// <inheritdoc/>
    public async Task RunAsync(NetapiModuleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = CherrypyOptions.Bind(context.Section);
        X509Certificate2? certificate = null;
        if (!options.DisableSsl)
        {
            if (string.IsNullOrEmpty(options.SslCrt) || string.IsNullOrEmpty(options.SslKey))
            {
                // As Salt's rest_cherrypy: TLS is on by default and needs a certificate.
                context.Logger.LogError("Not starting '{Module}'. Options 'ssl_crt' and 'ssl_key' are required if SSL is not disabled.", ConfigKey);
                await WaitForStopAsync(context.Stopping);
                return;
            }

            foreach (var file in new[] { options.SslCrt, options.SslKey })
            {
                if (!File.Exists(file))
                {
                    context.Logger.LogError("Could not find a certificate: {Path}\nIf you want to quickly generate a self-signed certificate, use the tls.create_self_signed_cert function in Salt", file);
                    await WaitForStopAsync(context.Stopping);
                    return;
                }
            }

            certificate = LoadCertificate(options);
            if (!string.IsNullOrEmpty(options.SslChain))
            {
                // ListenerOptions carries no chain: Kestrel sends the chain the system trust store can build.
                context.Logger.LogWarning("ssl_chain is not sent as given: intermediates come from the system trust store");
            }
        }

        var listener = new ListenerOptions(
            options.Host,
            options.Port,
            MaxRequestBodySize: options.MaxRequestBodySize,
            Certificate: certificate,
            MinimumTls: options.SslMinVersion,
            // Requests are bounded by the gate (thread_pool running + queue_size waiting); connections
            // (idle keep-alives, event streams) by a generous multiple of that.
            MaxConnections: Math.Max(1000, 10L * (options.ThreadPool + options.QueueSize)));
        var builder = NetapiWebHost.CreateBuilder(context, listener);
        builder.Logging.SetMinimumLevel(options.Debug ? LogLevel.Debug : LogLevel.Warning);
        Gzip.AddTo(builder.Services);
        await using var web = builder.Build();
        web.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        using var app = CherrypyPipeline.Use(web, options, context.Client, context.Events, context.Logger, TimeProvider.System, certificate is not null);
        await web.StartAsync(context.Stopping);
        if (context.Logger.IsEnabled(LogLevel.Information))
        {
            context.Logger.LogInformation("rest_cherrypy listening on {Urls}", string.Join(", ", web.Urls));
        }
        await WaitForStopAsync(context.Stopping);
        using var drain = new CancellationTokenSource(context.StopTimeout);
        await web.StopAsync(drain.Token);
    }

    private static X509Certificate2 LoadCertificate(CherrypyOptions options)
    {
        using var cert = X509Certificate2.CreateFromPemFile(options.SslCrt!, options.SslKey);
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

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Events;
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
        foreach (var warning in options.Warnings)
        {
            context.Logger.LogWarning("{Key}: {Message}", warning.Key, warning.Message);
        }

        // Forwarded headers from trusted proxies, the access log, log_error_file (as get_conf's log.* keys).
        await using var front = HttpFront.Open(context, options.Front);
        context = front.Context;
        X509Certificate2? certificate = null;
        X509Certificate2Collection? chain = null;
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

            (certificate, chain) = LoadCertificate(options);
        }

        var listener = new ListenerOptions(
            options.Host,
            options.Port,
            MaxRequestBodySize: options.MaxRequestBodySize,
            Certificate: certificate,
            MinimumTls: options.SslMinVersion,
            // Requests are bounded by the gate (thread_pool running + queue_size waiting); connections
            // (idle keep-alives, event streams) by a generous multiple of that.
            MaxConnections: options.MaxConnections)
        {
            CertificateChain = chain,
            MaxConnectionsPerAddress = options.MaxConnectionsPerAddress,
            UnboundedAddresses = options.Front.TrustedProxies,
        };
        var builder = NetapiWebHost.CreateBuilder(context, listener);
        front.Apply(builder);
        builder.Logging.SetMinimumLevel(options.Debug ? LogLevel.Debug : LogLevel.Warning);
        Gzip.AddTo(builder.Services);
        await using var web = builder.Build();
        BatchingUpgradeFeature.Use(web);
        web.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        using var app = CherrypyPipeline.Use(web, options, context.Client, context.Events, context.Logger, TimeProvider.System);
        await web.StartAsync(context.Stopping);
        if (context.Logger.IsEnabled(LogLevel.Information))
        {
            context.Logger.LogInformation("rest_cherrypy listening on {Urls}", string.Join(", ", web.Urls));
        }
        await WaitForStopAsync(context.Stopping);
        using var drain = new CancellationTokenSource(context.StopTimeout);
        await web.StopAsync(drain.Token);
    }

    /// <summary>
    /// The certificate of <c>ssl_crt</c> with the key of <c>ssl_key</c>, and the chain to send with it: the
    /// certificates after the first in <c>ssl_crt</c> (a <c>fullchain.pem</c>, which CherryPy's
    /// <c>load_cert_chain</c> sends too), then those of <c>ssl_chain</c> (CherryPy's
    /// <c>server.ssl_certificate_chain</c>). A file that cannot be read is a config error naming its key.
    /// </summary>
    private static (X509Certificate2 Certificate, X509Certificate2Collection? Chain) LoadCertificate(CherrypyOptions options)
    {
        X509Certificate2 certificate;
        try
        {
            using var cert = X509Certificate2.CreateFromPemFile(options.SslCrt!, options.SslKey);
            // Export/re-import so the private key is usable by SslStream on every platform.
            certificate = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new NetapiConfigException("ssl_crt", $"cannot load the certificate {options.SslCrt} with the key {options.SslKey}: {e.Message}");
        }

        var chain = new X509Certificate2Collection();
        chain.AddRange(ReadCertificates("ssl_crt", options.SslCrt!).Skip(1).ToArray());
        if (!string.IsNullOrEmpty(options.SslChain))
        {
            var given = ReadCertificates("ssl_chain", options.SslChain);
            if (given.Count == 0)
            {
                throw new NetapiConfigException("ssl_chain", $"no PEM certificate in {options.SslChain}");
            }

            chain.AddRange(given);
        }

        return (certificate, chain.Count > 0 ? chain : null);
    }

    private static X509Certificate2Collection ReadCertificates(string key, string path)
    {
        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPemFile(path);
            return certificates;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new NetapiConfigException(key, $"cannot read certificates from {path}: {e.Message}");
        }
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

using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Modules;

namespace SaltApi.Abstractions.Hosting;

/// <summary>Where and how a module's Kestrel listener binds.</summary>
/// <param name="Host">Address to bind: an IP literal, <c>localhost</c>, <c>0.0.0.0</c>, <c>::</c>, or <c>*</c> for every interface (<see cref="NetapiWebHost.AnyAddress"/>).</param>
/// <param name="Port">TCP port (0 picks a free one).</param>
/// <param name="MaxRequestBodySize">Bodies above this many bytes are refused with 413; null = no limit.</param>
/// <param name="Certificate">Serve HTTPS with this certificate; null = plain HTTP.</param>
/// <param name="MinimumTls">Lowest TLS version accepted when <paramref name="Certificate"/> is set.</param>
/// <param name="MaxConnections">Concurrent connection bound; null = Kestrel's default (none).</param>
public sealed record ListenerOptions(
    string Host,
    int Port,
    long? MaxRequestBodySize = 100 * 1024 * 1024,
    X509Certificate2? Certificate = null,
    SslProtocols MinimumTls = SslProtocols.Tls12 | SslProtocols.Tls13,
    long? MaxConnections = null)
{
    /// <summary>
    /// Certificates sent after <see cref="Certificate"/> as its chain (rest_cherrypy's <c>ssl_chain</c>);
    /// null or empty = the intermediates the system trust store holds.
    /// </summary>
    public X509Certificate2Collection? CertificateChain { get; init; }
}

/// <summary>Builds a minimal Kestrel web application for a module, logging through the module's logger.</summary>
public static class NetapiWebHost
{
    /// <summary>
    /// <see cref="ListenerOptions.Host"/> for every interface, IPv6 and IPv4 (Kestrel's <c>ListenAnyIP</c>:
    /// <c>[::]</c>, or <c>0.0.0.0</c> where IPv6 is off), as Tornado binds with no address.
    /// </summary>
    public const string AnyAddress = "*";

    // How long a client has to send a request's headers.
    private static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Creates a builder bound as <paramref name="listener"/> says; add routes after <c>Build()</c>.</summary>
    public static WebApplicationBuilder CreateBuilder(NetapiModuleContext context, ListenerOptions listener)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(listener);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.AddProvider(new ModuleLoggerProvider(context.Logger));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // The framework's own lines never reach the module's log below Warning, whatever level the module
        // asks for: "Request starting/finished" (Hosting.Diagnostics) logs the path and query, and Kestrel
        // puts the raw request line in its bad-request messages when Information is on; both carry
        // tokens (?token=, /ws/<token>). A module logs its own redacted access line instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System", LogLevel.Warning);
        builder.Services.AddRoutingCore();
        if (context.Listening is { } listening)
        {
            builder.Services.AddSingleton<IHostedService>(sp => new ListeningSignal(sp.GetRequiredService<IHostApplicationLifetime>(), listening));
        }

        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = listener.MaxRequestBodySize;
            k.Limits.MaxConcurrentConnections = listener.MaxConnections;
            k.Limits.MaxConcurrentUpgradedConnections = listener.MaxConnections;
            k.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            // Slow clients hold a connection, never the server: the headers must arrive within 10 s
            // (CherryPy's socket_timeout), a body at 1 KiB/s or faster after a 10 s grace, and an answer
            // be read at 240 B/s or faster after 10 s (event streams lift that bound for themselves;
            // upgraded WebSocket connections are not rate-checked).
            k.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
            k.Limits.MinRequestBodyDataRate = new MinDataRate(1024, TimeSpan.FromSeconds(10));
            k.Limits.MinResponseDataRate = new MinDataRate(240, TimeSpan.FromSeconds(10));
            if (listener.Host == AnyAddress)
            {
                k.ListenAnyIP(listener.Port, Configure);
            }
            else
            {
                foreach (var address in Addresses(listener.Host))
                {
                    k.Listen(address, listener.Port, Configure);
                }
            }

            void Configure(ListenOptions o)
            {
                o.Protocols = HttpProtocols.Http1;
                if (listener.Certificate is { } leaf && listener.CertificateChain is { Count: > 0 } chain)
                {
                    // The chain as given, built once and offline: Kestrel's ServerCertificateChain
                    // would try to download a missing issuer at start.
                    var context = SslStreamCertificateContext.Create(leaf, chain, offline: true);
                    o.UseHttps(new TlsHandshakeCallbackOptions
                    {
                        OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = context,
                            EnabledSslProtocols = listener.MinimumTls,
                        }),
                    });
                }
                else if (listener.Certificate is { } cert)
                {
                    o.UseHttps(h =>
                    {
                        h.ServerCertificate = cert;
                        h.SslProtocols = listener.MinimumTls;
                    });
                }

                // After TLS: an HTTP/1.0 POST without Content-Length (nginx's default upstream) has an empty body.
                o.Use(Http10EmptyBody.Use);
            }
        });
        return builder;
    }

    private static IPAddress[] Addresses(string host) => host switch
    {
        "localhost" => [IPAddress.Loopback],
        "0.0.0.0" or "" => [IPAddress.Any],
        "::" => [IPAddress.IPv6Any],
        _ when IPAddress.TryParse(host.Trim('[', ']'), out var ip) => [ip],
        _ => Dns.GetHostAddresses(host),
    };

    // Tells the host once the server has started (Kestrel is bound by then).
    private sealed class ListeningSignal(IHostApplicationLifetime lifetime, Action listening) : IHostedService
    {
        private CancellationTokenRegistration registration;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            registration = lifetime.ApplicationStarted.Register(listening);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            registration.Dispose();
            return Task.CompletedTask;
        }
    }

    private sealed class ModuleLoggerProvider(ILogger logger) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }
}

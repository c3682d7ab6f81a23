using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
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
    /// The certificate (with its chain) for each new connection, in place of <see cref="Certificate"/>: a module
    /// that renews its certificate without a restart returns the newest. Connections already open keep theirs.
    /// </summary>
    public Func<SslStreamCertificateContext>? CertificateSource { get; init; }

    /// <summary>
    /// Connections open at once from one client address; null = no bound of its own. Past it a new connection
    /// from that address is closed at once (a warning at most every 10 s counts them).
    /// </summary>
    public long? MaxConnectionsPerAddress { get; init; }

    /// <summary>Addresses that <see cref="MaxConnectionsPerAddress"/> does not bound: the reverse proxies every client comes through.</summary>
    public TrustedProxies UnboundedAddresses { get; init; } = TrustedProxies.None;
}

/// <summary>Builds a minimal Kestrel web application for a module, logging through the module's logger.</summary>
public static class NetapiWebHost
{
    /// <summary>
    /// <see cref="ListenerOptions.Host"/> for every interface, IPv6 and IPv4 (Kestrel's <c>ListenAnyIP</c>:
    /// <c>[::]</c>, or <c>0.0.0.0</c> where IPv6 is off), as Tornado binds with no address.
    /// </summary>
    public const string AnyAddress = "*";

    /// <summary>
    /// How long a client has to send a request's headers, and how long a connection may sit idle before its
    /// first request or between requests (Kestrel keeps one 130 s by default): CherryPy's socket_timeout.
    /// </summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

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
        var refusals = new RefusedConnections(context.Logger);
        builder.Logging.AddProvider(new ModuleLoggerProvider(context.Logger, refusals));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // The framework's own lines never reach the module's log below Warning, whatever level the module
        // asks for: "Request starting/finished" (Hosting.Diagnostics) logs the path and query, and Kestrel
        // puts the raw request line in its bad-request messages when Information is on; both carry
        // tokens (?token=, /ws/<token>). A module logs its own redacted access line instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System", LogLevel.Warning);
        // A module that cannot start (its port taken) is logged once, in one line, by the daemon's supervisor:
        // not a second time here with the exception's stack.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
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
            // Slow clients hold a connection, never the server: a connection idle for 10 s before a request
            // or between two is closed (Kestrel's default is 130 s), the headers must arrive within 10 s
            // (CherryPy's socket_timeout), a body at 1 KiB/s or faster after a 10 s grace, and an answer be
            // read at 240 B/s or faster after 10 s (event streams lift that bound for themselves; upgraded
            // WebSocket connections are not rate-checked).
            k.Limits.RequestHeadersTimeout = IdleTimeout;
            k.Limits.KeepAliveTimeout = IdleTimeout;
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
                if (listener.MaxConnectionsPerAddress is { } perAddress)
                {
                    var open = new ConnectionsPerAddress(perAddress, listener.UnboundedAddresses, refusals);
                    o.Use(open.Middleware);
                }

                if (listener.CertificateSource is { } source)
                {
                    o.UseHttps(new TlsHandshakeCallbackOptions
                    {
                        OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = source(),
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

    private sealed class ModuleLoggerProvider(ILogger logger, RefusedConnections refusals) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => categoryName.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal)
            ? new KestrelLogger(logger, refusals)
            : logger;

        public void Dispose()
        {
        }
    }

    // Kestrel's lines, but its warning for each connection refused at the connection limit, which is counted
    // instead: a flood of connections wrote one line each.
    private sealed class KestrelLogger(ILogger logger, RefusedConnections refusals) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == "ConnectionRejected")
            {
                refusals.Refused("the connection limit (max_connections) is reached");
                return;
            }

            logger.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

/// <summary>Counts refused connections and says so in one warning at most every 10 s.</summary>
internal sealed class RefusedConnections(ILogger logger)
{
    private static readonly long Interval = System.Diagnostics.Stopwatch.Frequency * 10;
    private readonly Lock gate = new();
    private long count;
    private long lastReport = long.MinValue;

    public void Refused(string reason)
    {
        long n;
        lock (gate)
        {
            count++;
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (lastReport != long.MinValue && now - lastReport < Interval)
            {
                return;
            }

            lastReport = now;
            n = count;
            count = 0;
        }

        logger.LogWarning("{Count} connection(s) refused since the last report: {Reason}", n, reason);
    }
}

/// <summary>The connections open from each client address, at most so many (a bounded table: one entry per address with a connection open).</summary>
internal sealed class ConnectionsPerAddress(long limit, TrustedProxies unbounded, RefusedConnections refusals)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IPAddress, long> open = new();

    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        if (connection.RemoteEndPoint is not IPEndPoint { Address: var raw })
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var address = SaltApi.Abstractions.Access.ClientAddress.Unmapped(raw);
        if (unbounded.Trusts(address))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        if (open.AddOrUpdate(address, 1, static (_, n) => n + 1) > limit)
        {
            Leave(address);
            refusals.Refused($"more than {limit} connections from one address (max_connections_per_address)");
            return;
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Leave(address);
        }
    };

    private void Leave(IPAddress address)
    {
        if (open.AddOrUpdate(address, 0, static (_, n) => n - 1) <= 0)
        {
            open.TryRemove(new KeyValuePair<IPAddress, long>(address, 0));
        }
    }
}

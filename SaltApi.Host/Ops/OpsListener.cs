using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace SaltApi.Host.Ops;

/// <summary>
/// The operations listener (<see cref="OpsOptions"/>): <c>/livez</c> (the process serves), <c>/readyz</c> (the
/// master answers and its event bus is connected), and with <c>metrics: true</c> <c>/metrics</c>, every meter
/// named <c>SaltApi.*</c> (the contract's, the client layer's, any module's) in Prometheus's text format through
/// OpenTelemetry's exporter. No auth and nothing in the answers but a word: they tell a balancer, not a visitor.
/// </summary>
internal sealed class OpsListener : IAsyncDisposable
{
    /// <summary>The meters exported: every SaltApi meter, in whatever load context it was created.</summary>
    public const string MeterPattern = "SaltApi.*";

    private readonly WebApplication web;

    private OpsListener(WebApplication web) => this.web = web;

    /// <summary>Binds and starts the listener; <paramref name="ready"/> answers readiness.</summary>
    public static async Task<OpsListener> StartAsync(OpsOptions options, Func<Task<bool>> ready, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var log = loggers.CreateLogger("salt-api.ops");
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxConcurrentConnections = 256;
            k.Limits.MaxRequestBodySize = 0;
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            var address = options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host.Trim('[', ']'));
            k.Listen(address, options.Port, o => o.Protocols = HttpProtocols.Http1);
        });
        if (options.Metrics)
        {
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(r => r.AddService("salt-api", serviceVersion: typeof(OpsListener).Assembly.GetName().Version?.ToString(3)))
                .WithMetrics(m => m.AddMeter(MeterPattern).AddPrometheusExporter(o =>
                {
                    // Every scrape sees the counts of that moment (the exporter caches 300 ms by default).
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                }));
        }

        var web = builder.Build();
        web.UseRouting();
        web.UseEndpoints(_ => { });
        web.MapMethods("/livez", ["GET", "HEAD"], () => Results.Text("ok\n"));
        web.MapMethods("/readyz", ["GET", "HEAD"], async () => await ready().ConfigureAwait(false)
            ? Results.Text("ready\n")
            : Results.Text("not ready\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        if (options.Metrics)
        {
            web.MapPrometheusScrapingEndpoint("/metrics");
        }

        try
        {
            await web.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await web.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (log.IsEnabled(LogLevel.Information))
        {
            log.LogInformation("saltapi_ops listening on {Urls} (/livez, /readyz{Metrics})", string.Join(", ", web.Urls), options.Metrics ? ", /metrics" : "");
        }

        return new OpsListener(web);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await web.StopAsync(stop.Token).ConfigureAwait(false);
        }
        finally
        {
            await web.DisposeAsync().ConfigureAwait(false);
        }
    }
}

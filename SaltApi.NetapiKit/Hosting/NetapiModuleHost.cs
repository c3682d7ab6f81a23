using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;

namespace SaltApi.NetapiKit.Hosting;

/// <summary>
/// A netapi module's lifecycle, as salt-api's modules run theirs: the TLS check, the certificate with its chain,
/// the listener and its front (forwarded headers, access and error logs), start, wait for the daemon to stop,
/// and drain. A certificate renewed on disk is served to new connections within seconds, without a restart
/// (at once on SIGHUP: <see cref="NetapiModuleContext.Reload"/>). <see cref="NetapiModule"/> runs a module here.
/// </summary>
public static class NetapiModuleHost
{
    /// <summary>
    /// Runs the module until <see cref="NetapiModuleContext.Stopping"/>. With TLS on and a certificate missing or
    /// unreadable, one error says so (the module's words: "Not starting '…'") and nothing listens until the stop:
    /// restarting would not make the file appear.
    /// </summary>
    public static async Task RunAsync(NetapiModuleContext context, ModuleHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var section = options.Section;
        foreach (var warning in section.Warnings)
        {
            context.Logger.LogWarning("{Key}: {Message}", warning.Key, warning.Message);
        }

        var drainTimeout = options.DrainTimeout is { } drainOption && drainOption < context.StopTimeout ? drainOption : context.StopTimeout;
        if (options.DrainTimeout > context.StopTimeout)
        {
            context.Logger.LogWarning("{Module}.drain_timeout ({Drain} s) is longer than the daemon's stop bound: in-flight requests get {Bound} s", section.ConfigKey, options.DrainTimeout.Value.TotalSeconds, drainTimeout.TotalSeconds);
        }

        await using var front = HttpFront.Open(context, section.Front);
        context = front.Context;
        var listener = section.Listener;
        using var certificates = section.Tls is { } tls && Certificate(context.Logger, section.ConfigKey, tls) is { } first
            ? new CertificateReloader(section.ConfigKey, tls, first, context.Reload, context.Logger)
            : null;
        if (section.Tls is not null)
        {
            if (certificates is null)
            {
                await WaitForStopAsync(context.Stopping).ConfigureAwait(false);
                return;
            }

            listener = listener with { CertificateSource = () => certificates.Current };
        }

        var builder = NetapiWebHost.CreateBuilder(context, listener);
        front.Apply(builder);
        builder.Logging.SetMinimumLevel(section.Debug ? LogLevel.Debug : LogLevel.Warning);
        builder.WebHost.UseShutdownTimeout(drainTimeout);
        options.Configure?.Invoke(builder);
        var web = builder.Build();
        await using (web.ConfigureAwait(false))
        {
            if (options.WebSockets)
            {
                BatchingUpgradeFeature.Use(web);
                web.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
            }

            if (section.OpenApi && options.OpenApi is { } description)
            {
                Routing.OpenApiEndpoint.Use(web, description());
            }

            using var app = options.Use(web, context);
            await web.StartAsync(context.Stopping).ConfigureAwait(false);
            if (context.Logger.IsEnabled(LogLevel.Information))
            {
                context.Logger.LogInformation("{Module} listening on {Urls}", section.ConfigKey, string.Join(", ", web.Urls));
            }

            await WaitForStopAsync(context.Stopping).ConfigureAwait(false);

            // Graceful stop: Kestrel stops accepting and lets in-flight requests finish within the drain bound.
            using var drain = new CancellationTokenSource(drainTimeout);
            await web.StopAsync(drain.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until <paramref name="stopping"/> is cancelled.</summary>
    public static async Task WaitForStopAsync(CancellationToken stopping)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    // As salt-api's modules at start: TLS is on by default and needs its files; a wrong one is said once.
    private static PemCertificate? Certificate(ILogger logger, string module, TlsFiles tls)
    {
        if (tls.Missing)
        {
            logger.LogError("Not starting '{Module}'. Options 'ssl_crt' and 'ssl_key' are required if SSL is not disabled.", module);
            return null;
        }

        if (tls.Given.FirstOrDefault(f => !File.Exists(f)) is { } absent)
        {
            logger.LogError("Not starting '{Module}'. Could not find a certificate: {Path}\nIf you want to quickly generate a self-signed certificate, use the tls.create_self_signed_cert function in Salt", module, absent);
            return null;
        }

        try
        {
            return PemCertificate.Load(tls.Crt!, tls.Key, tls.Chain);
        }
        catch (NetapiConfigException e)
        {
            logger.LogError("Not starting '{Module}'. {Message}", module, e.Problems[0].Message);
            return null;
        }
    }
}

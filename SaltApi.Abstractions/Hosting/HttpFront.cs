using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using SaltApi.Abstractions.Modules;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// What every module's listener does before the module sees a request, and after it has answered:
/// forwarded headers from <see cref="HttpFrontOptions.TrustedProxies"/> only, then one access-log line per
/// request (<see cref="HttpFrontOptions.AccessLogFile"/>, else the module's log at info). Lines at info
/// and above of the module's logger also go to <see cref="HttpFrontOptions.ErrorLogFile"/> when set.
/// </summary>
/// <example>
/// <code>
/// await using var front = HttpFront.Open(context, HttpFrontOptions.Read(section));
/// var builder = NetapiWebHost.CreateBuilder(front.Context, listener);
/// front.Apply(builder);
/// </code>
/// </example>
public sealed class HttpFront : IAsyncDisposable
{
    // Hops of X-Forwarded-For read at most (each one from a trusted proxy): a chain of proxies, bounded.
    private const int MaxHops = 16;

    private readonly HttpFrontOptions options;
    private readonly LogLineWriter access;
    private readonly LogLineWriter? errors;

    private HttpFront(NetapiModuleContext context, HttpFrontOptions options, LogLineWriter access, LogLineWriter? errors)
    {
        this.options = options;
        this.access = access;
        this.errors = errors;
        // The same context with the logger that also writes the error file (every other member as given).
        Context = errors is null
            ? context
            : new NetapiModuleContext(context.Section, context.MasterConfig, context.Client, context.Events, new ErrorLogTee(context.Logger, errors), context.Stopping) { StopTimeout = context.StopTimeout, Listening = context.Listening, Reload = context.Reload };
    }

    /// <summary>The module's context, whose logger also writes the error-log file; give it to <see cref="NetapiWebHost.CreateBuilder"/>.</summary>
    public NetapiModuleContext Context { get; }

    /// <summary>Opens the log files; one that cannot be opened is a <see cref="NetapiConfigException"/> naming its key.</summary>
    public static HttpFront Open(NetapiModuleContext context, HttpFrontOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.ErrorLogFile is { } errorPath ? OpenFile(context, options.ConfigKey + "." + HttpFrontOptions.ErrorLogFileKey, errorPath, "error log") : null;
        try
        {
            var access = options.AccessLogFile is { } accessPath
                ? OpenFile(context, options.ConfigKey + "." + HttpFrontOptions.AccessLogFileKey, accessPath, "access log")
                : LogLineWriter.ToLogger(context.Logger, "access log");
            return new HttpFront(context, options, access, errors);
        }
        catch
        {
            errors?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Puts forwarded headers and the access log in front of every step the module adds to the built app.</summary>
    public void Apply(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IStartupFilter>(new FrontFilter(this));
    }

    /// <summary>Writes the queued lines (bounded in time) and closes the files; after the app has stopped.</summary>
    public async ValueTask DisposeAsync()
    {
        await access.DisposeAsync().ConfigureAwait(false);
        if (errors is not null)
        {
            await errors.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static LogLineWriter OpenFile(NetapiModuleContext context, string key, string path, string what)
    {
        try
        {
            return LogLineWriter.ToFile(path, context.Logger, what);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new NetapiConfigException(key, $"cannot open {path}: {e.Message}");
        }
    }

    private ForwardedHeadersOptions Forwarded()
    {
        var o = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
            ForwardLimit = MaxHops,
        };

        // ASP.NET Core trusts loopback by default: only the configured proxies are trusted here.
        o.KnownProxies.Clear();
        o.KnownIPNetworks.Clear();
        foreach (var network in options.TrustedProxies.Networks)
        {
            o.KnownIPNetworks.Add(network);
        }

        return o;
    }

    /// <summary>nginx's status for a request whose client closed its connection before the answer started.</summary>
    private const int ClientClosedRequest = 499;

    private async Task LogAccessAsync(HttpContext ctx, RequestDelegate next)
    {
        if (!access.Enabled)
        {
            await next(ctx).ConfigureAwait(false);
            return;
        }

        // The request line as it came, read before any step rewrites the path.
        var req = ctx.Request;
        var target = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (req.PathBase + req.Path + req.QueryString).ToString();
        var (method, protocol) = (req.Method, req.Protocol);
        Exception? error = null;
        try
        {
            await next(ctx).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            error = e;
            throw;
        }
        finally
        {
            // An exception that left every step is Kestrel's answer: its 400 for a bad request, else 500, unless the
            // answer had started. A client that closed its connection before its answer started gets nginx's 499
            // ("client closed request"): nothing was sent, and it is not a server error.
            var status = ctx.Response.HasStarted ? ctx.Response.StatusCode
                : ctx.RequestAborted.IsCancellationRequested ? ClientClosedRequest
                : error is BadHttpRequestException bad ? bad.StatusCode
                : error is not null ? 500 : ctx.Response.StatusCode;
            access.Write(AccessLogLine.Format(ctx.Connection.RemoteIpAddress, method, target, protocol, status, ctx.Response.ContentLength, req.Headers.Referer, req.Headers.UserAgent, DateTime.Now));
        }
    }

    private sealed class FrontFilter(HttpFront front) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            if (front.options.TrustedProxies.Any)
            {
                app.UseForwardedHeaders(front.Forwarded());
            }

            app.Use(front.LogAccessAsync);
            app.Use(RequestRecorder.For(front.options.ConfigKey));
            next(app);
        };
    }
}

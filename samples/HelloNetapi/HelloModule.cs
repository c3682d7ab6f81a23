using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Json;
using SaltApi.Abstractions.Modules;

namespace HelloNetapi;

/// <summary>
/// A minimal netapi module. Enabled by this in the master config:
/// <code>
/// hello_netapi:
///   port: 8010
///   greeting: Hello from HelloNetapi
/// </code>
/// GET / answers the greeting; POST / runs one lowstate chunk through the shared client layer.
/// </summary>
public sealed class HelloModule : INetapiModule
{
    /// <summary>The master-config section that enables and configures this module.</summary>
    public string ConfigKey => "hello_netapi";

    /// <summary>
    /// Like Salt's <c>__virtual__</c>: start only with a port (the message is logged otherwise). Then every
    /// option is checked before start: a wrong one is one error line naming the key and its file, and the
    /// module does not start (rather than failing in RunAsync and being restarted).
    /// </summary>
    public string? CheckConfig(IReadOnlyDictionary<string, object?> section)
    {
        if (!section.ContainsKey("port"))
        {
            return "Not loading 'hello_netapi'. 'port' not specified in config";
        }

        Bind(section);
        return null;
    }

    /// <summary>Serves until the daemon stops, then drains in-flight requests and returns.</summary>
    public async Task RunAsync(NetapiModuleContext context)
    {
        var (port, host, greeting) = Bind(context.Section);

        // Bodies up to 64 KiB (413 past it), at most 100 held at once (503), each whole within 30 s (408).
        var app = NetapiWebHost.CreateBuilder(context, new ListenerOptions(host, port, MaxRequestBodySize: 64 * 1024)).Build();
        var bodies = RequestBodyBudget.For(64 * 1024, 100);

        app.MapGet("/", () => Json(new Dictionary<string, object?> { ["return"] = greeting }));

        app.MapPost("/", async (HttpRequest request) =>
        {
            using var body = await bodies.ReadAsync(request, TimeSpan.FromSeconds(30));
            if (body.Outcome != RequestBodyOutcome.Read)
            {
                return Results.Text(body.Outcome.ToString(), "text/plain", statusCode: body.StatusCode);
            }

            IReadOnlyDictionary<string, object?> lowstate;
            try
            {
                lowstate = SaltJson.Parse(body.Bytes) as IReadOnlyDictionary<string, object?>
                    ?? throw new SaltJsonException("expected one lowstate map");
            }
            catch (SaltJsonException e)
            {
                return Results.Text(e.Message, "text/plain", statusCode: 400);
            }

            try
            {
                var result = await context.Client.RunAsync(lowstate, request.HttpContext.RequestAborted);
                return Json(new Dictionary<string, object?> { ["return"] = result });
            }
            catch (SaltApiException e)
            {
                // The contract's status for the error's kind: 401, 400, 503, 504 or 500.
                context.Logger.LogWarning("lowstate failed: {Kind}", e.Kind);
                return Results.Text(e.Message, "text/plain", statusCode: e.HttpStatus());
            }
        });

        await app.StartAsync(CancellationToken.None);
        context.Logger.LogInformation("hello_netapi listening on {Host}:{Port}", host, port);
        try
        {
            await Task.Delay(Timeout.Infinite, context.Stopping);
        }
        catch (OperationCanceledException)
        {
        }

        // Stop accepting, let running requests finish within the daemon's stop bound, then release the port.
        using var drain = new CancellationTokenSource(context.StopTimeout);
        await app.StopAsync(drain.Token);
        await app.DisposeAsync();
    }

    // The options, read with the contract's typed readers: every wrong one is reported, at once.
    private static (int Port, string Host, string Greeting) Bind(IReadOnlyDictionary<string, object?> values)
    {
        var section = new ModuleSection("hello_netapi", values);
        var options = (section.GetPort(), section.GetString("host", "127.0.0.1"), section.GetString("greeting", "Hello from HelloNetapi"));
        section.ThrowIfInvalid();
        return options;
    }

    private static IResult Json(object? value) => Results.Text(SaltJson.Serialize(value), "application/json");
}

using System.Globalization;
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

    /// <summary>Like Salt's <c>__virtual__</c>: start only with a port; the message is logged otherwise.</summary>
    public string? CheckConfig(IReadOnlyDictionary<string, object?> section) =>
        section.TryGetValue("port", out var port) && port is long
            ? null
            : "Not loading 'hello_netapi'. 'port' not specified in config";

    /// <summary>Serves until the daemon stops, then drains in-flight requests and returns.</summary>
    public async Task RunAsync(NetapiModuleContext context)
    {
        var port = Convert.ToInt32(context.Section["port"], CultureInfo.InvariantCulture);
        var host = context.Section.TryGetValue("host", out var h) && h is string s ? s : "127.0.0.1";
        var greeting = context.Section.TryGetValue("greeting", out var g) && g is string text ? text : "Hello from HelloNetapi";

        var app = NetapiWebHost.CreateBuilder(context, new ListenerOptions(host, port)).Build();

        app.MapGet("/", () => Json(new Dictionary<string, object?> { ["return"] = greeting }));

        app.MapPost("/", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
            if (SaltJson.Parse(body.ToArray()) is not IReadOnlyDictionary<string, object?> lowstate)
            {
                return Results.Text("expected one lowstate map", "text/plain", statusCode: 400);
            }

            try
            {
                var result = await context.Client.RunAsync(lowstate, request.HttpContext.RequestAborted);
                return Json(new Dictionary<string, object?> { ["return"] = result });
            }
            catch (SaltApiException e) when (e.Kind is SaltErrorKind.Authentication or SaltErrorKind.Authorization)
            {
                return Results.Text("Unauthorized", "text/plain", statusCode: 401);
            }
            catch (SaltApiException e)
            {
                context.Logger.LogWarning("lowstate failed: {Kind}", e.Kind);
                return Results.Text(e.Message, "text/plain", statusCode: 400);
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

        // Stop accepting, let running requests finish (Kestrel waits for them up to the token), then release the port.
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(drain.Token);
        await app.DisposeAsync();
    }

    private static IResult Json(object? value) => Results.Text(SaltJson.Serialize(value), "application/json");
}

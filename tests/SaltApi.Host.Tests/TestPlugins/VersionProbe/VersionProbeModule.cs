using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;

namespace VersionProbe;

/// <summary>Answers GET / with the YamlDotNet version its own code sees; GET /slow?ms=N answers after N ms.</summary>
public sealed class VersionProbeModule : INetapiModule
{
    /// <summary>The YamlDotNet version loaded for this plugin.</summary>
    public static string YamlVersion => typeof(YamlDotNet.Serialization.Deserializer).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;

    public string ConfigKey => "version_probe";

    public async Task RunAsync(NetapiModuleContext context)
    {
        var port = Convert.ToInt32(context.Section["port"], System.Globalization.CultureInfo.InvariantCulture);
        var app = NetapiWebHost.CreateBuilder(context, new ListenerOptions("127.0.0.1", port)).Build();
        app.MapGet("/", () => Results.Text(YamlVersion));
        // A slow request, to prove that stopping the daemon drains it: /slow?ms=3000
        app.MapGet("/slow", async (int ms) =>
        {
            context.Logger.LogInformation("version_probe: /slow?ms={Ms} started", ms);
            await Task.Delay(ms, CancellationToken.None);
            return Results.Text("slept " + ms);
        });
        await app.StartAsync(CancellationToken.None);
        context.Logger.LogInformation("version_probe listening on 127.0.0.1:{Port}", port);
        try
        {
            await Task.Delay(Timeout.Infinite, context.Stopping);
        }
        catch (OperationCanceledException)
        {
        }

        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        await app.StopAsync(drain.Token);
        await app.DisposeAsync();
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;

namespace VersionProbe;

/// <summary>Answers GET / with the YamlDotNet version its own code sees.</summary>
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
        await app.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(Timeout.Infinite, context.Stopping);
        }
        catch (OperationCanceledException)
        {
        }

        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }
}

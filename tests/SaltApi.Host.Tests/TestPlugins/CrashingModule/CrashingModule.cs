using System.Globalization;
using SaltApi.Abstractions.Modules;

namespace CrashingModule;

/// <summary>Throws at every start; appends a line to its section's <c>marker</c> file each time it is started.</summary>
public sealed class CrashingModule : INetapiModule
{
    public string ConfigKey => "crashing_module";

    public string? CheckConfig(IReadOnlyDictionary<string, object?> section) => null;

    public Task RunAsync(NetapiModuleContext context)
    {
        if (context.Section.TryGetValue("marker", out var marker) && marker is string path)
        {
            File.AppendAllText(path, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture) + "\n");
        }

        throw new InvalidOperationException("crashing_module always fails to start");
    }
}

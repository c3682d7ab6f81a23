using SaltApi.Abstractions.Modules;

namespace MissingDependency;

/// <summary>Needs MissingDependencyLib.dll, which the tests delete.</summary>
public sealed class MissingDependencyModule : INetapiModule
{
    public string ConfigKey => "missing_dependency";

    public Task RunAsync(NetapiModuleContext context) => Task.FromResult(MissingDependencyLib.Greeting.Text);
}

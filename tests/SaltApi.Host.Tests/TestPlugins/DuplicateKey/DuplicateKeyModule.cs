using SaltApi.Abstractions.Modules;

namespace DuplicateKey;

/// <summary>Claims rest_wsgi, which the built-in plugin already claims.</summary>
public sealed class DuplicateKeyModule : INetapiModule
{
    public string ConfigKey => "rest_wsgi";

    public Task RunAsync(NetapiModuleContext context) => throw new InvalidOperationException("must never start");
}

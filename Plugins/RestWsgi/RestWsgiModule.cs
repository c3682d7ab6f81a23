using SaltApi.Abstractions.Modules;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>Salt's rest_wsgi module.</summary>
public sealed class RestWsgiModule : INetapiModule
{
    /// <inheritdoc/>
    public string ConfigKey => "rest_wsgi";

    /// <inheritdoc/>
    public Task RunAsync(NetapiModuleContext context) => throw new NotImplementedException("rest_wsgi is not implemented yet");
}

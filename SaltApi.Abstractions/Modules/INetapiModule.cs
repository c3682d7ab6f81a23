namespace SaltApi.Abstractions.Modules;

/// <summary>
/// A netapi module: the .NET counterpart of a Python module in <c>salt/netapi</c>
/// (rest_wsgi, rest_cherrypy, ...). The host creates one instance per enabled module
/// with the public parameterless constructor.
/// </summary>
public interface INetapiModule
{
    /// <summary>The master-config key that configures and enables the module, e.g. <c>rest_wsgi</c>.</summary>
    string ConfigKey { get; }

    /// <summary>
    /// Salt's <c>__virtual__</c>: returns null when the module should start with this section,
    /// otherwise the reason it does not. The default mirrors the built-in modules:
    /// the section must be a map with a <c>port</c> key. Called before the module starts: a module
    /// binds its options here too (<see cref="ModuleSection"/>) and throws <see cref="NetapiConfigException"/>
    /// with every wrong option, which the host logs as one error naming each key and its file.
    /// </summary>
    string? CheckConfig(IReadOnlyDictionary<string, object?> section) =>
        section.ContainsKey("port") ? null : $"Not loading '{ConfigKey}'. 'port' not specified in config";

    /// <summary>
    /// Serves until <see cref="NetapiModuleContext.Stopping"/> is cancelled, then returns after
    /// draining in-flight requests within <see cref="NetapiModuleContext.StopTimeout"/>. An exception is
    /// logged by the host and the module is restarted, except <see cref="NetapiConfigException"/>.
    /// </summary>
    Task RunAsync(NetapiModuleContext context);
}

using SaltApi.Abstractions.Modules;

namespace SaltApi.NetapiKit.Hosting;

/// <summary>
/// A netapi module on the kit: checked as salt-api's <c>__virtual__</c> (a <c>port</c>, then every option), and run by
/// <see cref="NetapiModuleHost"/>. A module says only what is its own: its section bound (the listener keys by
/// <see cref="ListenerSection.Bind"/>) and how to serve it.
/// <code>
/// public sealed class HelloModule() : NetapiModule("hello")
/// {
///     protected override ModuleHostOptions Host(IReadOnlyDictionary&lt;string, object?&gt; section)
///     {
///         var options = HelloOptions.Bind(section);
///         return new ModuleHostOptions(options.Listener, (web, ctx) => { web.Run(Handle); return null; });
///     }
/// }
/// </code>
/// </summary>
/// <param name="configKey">The module's section in the master config (<c>rest_cherrypy</c>).</param>
public abstract class NetapiModule(string configKey) : INetapiModule
{
    /// <inheritdoc/>
    public string ConfigKey => configKey;

    /// <summary>
    /// As salt-api's <c>__virtual__</c>: the module loads when its section has a <c>port</c> (else the refusal, in
    /// Salt's words); then every option is checked, a <see cref="NetapiConfigException"/> naming all the problems.
    /// </summary>
    public string? CheckConfig(IReadOnlyDictionary<string, object?> section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (!section.ContainsKey("port"))
        {
            return $"Not loading '{configKey}'. 'port' not specified in config";
        }

        Host(section);
        return null;
    }

    /// <inheritdoc/>
    public Task RunAsync(NetapiModuleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return NetapiModuleHost.RunAsync(context, Host(context.Section));
    }

    /// <summary>
    /// Binds <paramref name="section"/> (throwing one <see cref="NetapiConfigException"/> naming every wrong option)
    /// and says how to serve it: the listener, the module's own services, and its routes.
    /// </summary>
    protected abstract ModuleHostOptions Host(IReadOnlyDictionary<string, object?> section);
}

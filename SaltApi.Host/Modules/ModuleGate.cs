using Microsoft.Extensions.Logging;
using SaltApi.Host.Configuration;
using SaltApi.Host.Plugins;

namespace SaltApi.Host.Modules;

/// <summary>
/// Salt's <c>__virtual__</c> step: a module is enabled when the master config has its key as a map and
/// the module's <c>CheckConfig</c> accepts it (the built-ins: the map has a <c>port</c>). Otherwise the
/// module's message is logged at error (rest_cherrypy's "Not loading ... 'port' not specified in config").
/// </summary>
internal static class ModuleGate
{
    /// <summary>Salt's built-in netapi modules: configuring one that no plugin provides deserves a warning.</summary>
    private static readonly string[] SaltModuleKeys = ["rest_cherrypy", "rest_wsgi", "rest_tornado"];

    public static List<EnabledModule> Enabled(PluginCatalog catalog, LoadedConfig config, ILogger log)
    {
        var enabled = new List<EnabledModule>();
        foreach (var module in catalog.Modules)
        {
            if (!config.Options.TryGetValue(module.ConfigKey, out var section))
            {
                continue;
            }

            if (section is not IReadOnlyDictionary<string, object?> map)
            {
                log.LogError(
                    "Not loading '{Key}': its config section ({Where}) must be a map of options, not {Type}",
                    module.ConfigKey,
                    config.Where(module.ConfigKey),
                    SaltYaml.PythonTypeName(section));
                continue;
            }

            string? refusal;
            try
            {
                refusal = module.Create().CheckConfig(map);
            }
            catch (Exception e)
            {
                refusal = $"Not loading '{module.ConfigKey}': its config check failed: {e.Message}";
            }

            if (refusal is not null)
            {
                log.LogError("{Message} ({Where})", refusal, config.Where(module.ConfigKey));
                continue;
            }

            enabled.Add(new EnabledModule(module, map));
        }

        foreach (var key in SaltModuleKeys.Where(k => config.Options.ContainsKey(k) && catalog.Modules.All(m => m.ConfigKey != k)))
        {
            log.LogWarning("Not loading '{Key}' ({Where}): no netapi plugin provides it", key, config.Where(key));
        }

        return enabled;
    }
}

using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Modules;
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
            catch (NetapiConfigException e)
            {
                // Every wrong option of the section on one line, each with the file and line it was written on.
                log.LogError("{Message}", Refusal(module.ConfigKey, e, config.Where));
                continue;
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

            enabled.Add(new EnabledModule(module, map, config.Where));
        }

        foreach (var key in SaltModuleKeys.Where(k => config.Options.ContainsKey(k) && catalog.Modules.All(m => m.ConfigKey != k)))
        {
            log.LogWarning("Not loading '{Key}' ({Where}): no netapi plugin provides it", key, config.Where(key));
        }

        return enabled;
    }

    /// <summary>The refusal of every enabled module whose section has wrong options (as <see cref="Enabled"/> logs them).</summary>
    public static IEnumerable<string> Problems(PluginCatalog catalog, LoadedConfig config)
    {
        foreach (var module in catalog.Modules)
        {
            if (config.Options.GetValueOrDefault(module.ConfigKey) is not IReadOnlyDictionary<string, object?> map)
            {
                continue;
            }

            string? refusal = null;
            try
            {
                module.Create().CheckConfig(map);
            }
            catch (NetapiConfigException e)
            {
                refusal = Refusal(module.ConfigKey, e, config.Where);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                refusal = $"Not loading '{module.ConfigKey}': its config check failed: {e.Message}";
            }

            if (refusal is not null)
            {
                yield return refusal;
            }
        }
    }

    /// <summary>
    /// "Not loading 'rest_wsgi': invalid options: rest_wsgi.port: expected a TCP port (0-65535), not 'banana'
    /// (/etc/salt/master, line 12)", every problem of the section on the one line.
    /// </summary>
    internal static string Refusal(string configKey, NetapiConfigException e, Func<string, string> where)
    {
        var problems = e.Problems.Select(p => $"{p.Key}: {p.Message} ({Where(p.Key, configKey, where)})");
        return $"Not loading '{configKey}': invalid option{(e.Problems.Count == 1 ? "" : "s")}: {string.Join("; ", problems)}";
    }

    // The key's own place, else its section's (a key the module reads under another name), else "(default)".
    private static string Where(string key, string configKey, Func<string, string> where) =>
        where(key) is var place && place != "(default)" ? place : where(configKey);
}

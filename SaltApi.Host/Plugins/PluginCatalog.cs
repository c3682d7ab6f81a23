using System.Reflection;
using System.Runtime.Loader;
using McMaster.NETCore.Plugins;
using McMaster.NETCore.Plugins.Loader;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Json;
using SaltApi.Abstractions.Modules;
using SaltApi.PythonValues;

namespace SaltApi.Host.Plugins;

/// <summary>A netapi module found in a plugin: its type and the config key it claims.</summary>
/// <param name="Plugin">The plugin's name (its folder and main assembly).</param>
/// <param name="AssemblyPath">The plugin's main assembly.</param>
/// <param name="Version">The plugin assembly's informational version.</param>
/// <param name="ModuleType">The <see cref="INetapiModule"/> class.</param>
/// <param name="ConfigKey">The master-config key the module claims.</param>
internal sealed record NetapiModuleType(string Plugin, string AssemblyPath, string Version, Type ModuleType, string ConfigKey)
{
    /// <summary>A fresh instance (a restarted module starts from a clean object).</summary>
    public INetapiModule Create() => (INetapiModule)Activator.CreateInstance(ModuleType)!;
}

/// <summary>A plugin (or one module of it) that was skipped, and why.</summary>
internal sealed record PluginFailure(string Plugin, string Path, string Reason);

/// <summary>
/// Finds plugins — <c>&lt;dir&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c> under <c>plugins/</c> beside the host and under
/// every <c>netapi_plugin_dirs</c> entry — and loads each into its own load context with McMaster.NETCore.Plugins,
/// sharing only the SaltApi.Abstractions contract (and what it exposes) with the host. The .NET counterpart of
/// Salt's netapi loader over <c>salt/netapi</c> and <c>netapi_dirs</c>.
/// </summary>
internal sealed class PluginCatalog
{
    /// <summary>The types whose assemblies are shared with every plugin: the contract and its dependencies (Python's scalar rules among them).</summary>
    private static readonly Type[] SharedTypes =
    [
        typeof(INetapiModule), typeof(NetapiModuleContext), typeof(INetapiClient), typeof(SaltToken),
        typeof(IEventStream), typeof(SaltEvent), typeof(SaltApiException), typeof(SaltJson), typeof(NetapiWebHost),
        typeof(ILogger), typeof(PyScalar),
    ];

    private readonly List<NetapiModuleType> modules = [];
    private readonly List<PluginFailure> failures = [];

    private PluginCatalog()
    {
    }

    /// <summary>Modules in search order; no two claim the same config key.</summary>
    public IReadOnlyList<NetapiModuleType> Modules => modules;

    /// <summary>Plugins that were skipped, each with the reason (already logged at error).</summary>
    public IReadOnlyList<PluginFailure> Failures => failures;

    /// <summary>The contract version this host provides.</summary>
    public static Version ContractVersion { get; } = typeof(INetapiModule).Assembly.GetName().Version!;

    /// <summary>The folders searched, in order: <c>plugins/</c> beside the host, then <c>netapi_plugin_dirs</c>.</summary>
    public static IReadOnlyList<string> SearchDirs(IEnumerable<string> configured) =>
        [Path.Combine(AppContext.BaseDirectory, "plugins"), .. configured];

    /// <summary>Loads every plugin found in <paramref name="dirs"/>; failures are logged and skipped.</summary>
    public static PluginCatalog Load(IReadOnlyList<string> dirs, ILogger log)
    {
        var catalog = new PluginCatalog();
        var builtIn = dirs.Count > 0 ? dirs[0] : null;
        foreach (var dir in dirs)
        {
            if (!Directory.Exists(dir))
            {
                if (dir != builtIn)
                {
                    log.LogWarning("netapi_plugin_dirs: the directory {Dir} does not exist", dir);
                }

                continue;
            }

            foreach (var (name, dll) in Candidates(dir))
            {
                catalog.LoadPlugin(name, dll, log);
            }
        }

        return catalog;
    }

    /// <summary>
    /// <c>dir/Name/Name.dll</c> for each sub-folder, sorted by name; a folder that is itself a plugin
    /// (<c>dir/Name.dll</c> where dir is named Name) also counts.
    /// </summary>
    private static IEnumerable<(string Name, string Dll)> Candidates(string dir)
    {
        var self = Path.GetFileName(Path.TrimEndingDirectorySeparator(dir));
        var selfDll = Path.Combine(dir, self + ".dll");
        if (File.Exists(selfDll))
        {
            yield return (self, selfDll);
            yield break;
        }

        foreach (var sub in Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(sub);
            var dll = Path.Combine(sub, name + ".dll");
            if (File.Exists(dll))
            {
                yield return (name, dll);
            }
        }
    }

    private void Fail(string plugin, string path, string reason, ILogger log, Exception? e = null)
    {
        failures.Add(new PluginFailure(plugin, path, reason));
        log.LogError(e is null || log.IsEnabled(LogLevel.Debug) ? e : null, "Not loading netapi plugin '{Plugin}' ({Path}): {Reason}", plugin, path, reason);
    }

    private void LoadPlugin(string name, string dll, ILogger log)
    {
        AssemblyLoadContext context;
        Assembly assembly;
        try
        {
            // Only the contract is shared: every other dependency of the plugin loads from its own folder
            // (its .deps.json first), in its own version, even when the host uses another one.
            (context, assembly) = LoadMainAssembly(dll);
        }
        catch (BadImageFormatException e)
        {
            Fail(name, dll, $"not a .NET assembly ({e.Message})", log);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // FileLoadException, FileNotFoundException, an unreadable file.
            Fail(name, dll, e.Message, log, e);
            return;
        }

        // The contract version is checked before any of the plugin's types or references load: a plugin built
        // against another major version of SaltApi.Abstractions would otherwise fail with type-load errors later.
        var contract = ReferencedContract(assembly);
        if (contract is null)
        {
            Fail(name, dll, "it does not reference SaltApi.Abstractions, so it has no netapi module", log);
            return;
        }

        if (contract.Major != ContractVersion.Major || contract > ContractVersion)
        {
            Fail(name, dll, $"it was built against SaltApi.Abstractions {contract}; this salt-api provides {ContractVersion} (same major version, not newer, required)", log);
            return;
        }

        var missing = MissingDependencies(assembly, context);
        if (missing.Count > 0)
        {
            Fail(name, dll, "missing dependency " + string.Join(", ", missing), log);
            return;
        }

        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException or TypeLoadException)
        {
            Fail(name, dll, "its types cannot be loaded: " + e.Message, log, e);
            return;
        }

        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? assembly.GetName().Version?.ToString() ?? "0";
        var found = 0;
        foreach (var type in types.Where(t => typeof(INetapiModule).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false }))
        {
            found++;
            var label = $"{name}:{type.FullName}";
            if (type.GetConstructor(Type.EmptyTypes) is null)
            {
                Fail(label, dll, "a netapi module needs a public parameterless constructor", log);
                continue;
            }

            string key;
            try
            {
                key = ((INetapiModule)Activator.CreateInstance(type)!).ConfigKey;
            }
            catch (Exception e)
            {
                var inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
                Fail(label, dll, "its constructor or ConfigKey threw: " + inner.Message, log, inner);
                continue;
            }

            if (string.IsNullOrWhiteSpace(key))
            {
                Fail(label, dll, "its ConfigKey is empty", log);
                continue;
            }

            if (modules.FirstOrDefault(m => m.ConfigKey == key) is { } owner)
            {
                // Deliberate difference (Salt's loader has no such case): the first claimant in search order keeps the key: built-in plugins beside the host
                // come before netapi_plugin_dirs, so a third-party folder cannot take over rest_wsgi.
                Fail(label, dll, $"config key '{key}' is already claimed by {owner.Plugin}:{owner.ModuleType.FullName} ({owner.AssemblyPath})", log);
                continue;
            }

            modules.Add(new NetapiModuleType(name, dll, version, type, key));
            log.LogDebug("Found netapi module '{Key}' ({Type}) in plugin {Plugin} {Version}", key, type.FullName, name, version);
        }

        if (found == 0)
        {
            Fail(name, dll, "it has no public class implementing INetapiModule", log);
        }
    }

    /// <summary>
    /// The plugin's McMaster load context, as <c>PluginLoader</c> builds it with PreferSharedTypes off. For memory,
    /// the builder is used directly when no runtimeconfig file asks for additional probing paths: PluginLoader
    /// reads them all with JsonSerializer on every start, ~2 MB of idle RSS for a step that then finds nothing.
    /// </summary>
    private static (AssemblyLoadContext Context, Assembly Assembly) LoadMainAssembly(string mainAssembly)
    {
        if (AsksForProbingPaths(mainAssembly))
        {
            var loader = PluginLoader.CreateFromAssemblyFile(mainAssembly, SharedTypes, c =>
            {
                c.PreferSharedTypes = false;
                c.IsUnloadable = false;
                c.IsLazyLoaded = true;
            });
            var main = loader.LoadDefaultAssembly();
            return (AssemblyLoadContext.GetLoadContext(main)!, main);
        }

        // Lazy: the contract's references are shared as they load, not its whole closure up front: eager
        // sharing loaded ~95 framework assemblies the daemon never runs (IIS, HttpSys, QUIC, ...).
        var builder = new AssemblyLoadContextBuilder().SetMainAssemblyPath(mainAssembly).IsLazyLoaded(true);
        foreach (var shared in SharedTypes.Select(t => t.Assembly.GetName()).DistinctBy(n => n.Name))
        {
            builder.PreferDefaultLoadContextAssembly(shared);
        }

        var context = builder.Build();
        return (context, context.LoadFromAssemblyPath(mainAssembly));
    }

    /// <summary>
    /// Whether a runtimeconfig file PluginLoader reads (the plugin's and the host's, with their .dev variants)
    /// mentions additionalProbingPaths.
    /// </summary>
    private static bool AsksForProbingPaths(string mainAssembly)
    {
        var dir = Path.GetDirectoryName(mainAssembly)!;
        IEnumerable<string> configs = [Path.Combine(dir, Path.GetFileNameWithoutExtension(mainAssembly) + ".runtimeconfig.json"),
            .. Directory.EnumerateFiles(AppContext.BaseDirectory, "*.runtimeconfig.json")];
        foreach (var config in configs)
        {
            foreach (var file in (string[])[config, Path.ChangeExtension(config, ".dev.json")])
            {
                try
                {
                    if (File.Exists(file) && File.ReadAllText(file).Contains("additionalProbingPaths", StringComparison.OrdinalIgnoreCase))
                    {
                        return true;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }

        return false;
    }

    /// <summary>The SaltApi.Abstractions version the assembly references (null: none).</summary>
    /// <remarks>Read from the loaded assembly, not the file: System.Reflection.Metadata cost ~2 MB of idle RSS.</remarks>
    internal static Version? ReferencedContract(Assembly assembly) =>
        assembly.GetReferencedAssemblies().FirstOrDefault(r => r.Name == "SaltApi.Abstractions")?.Version;

    /// <summary>Direct references of the plugin that its load context cannot resolve.</summary>
    private static List<string> MissingDependencies(Assembly assembly, AssemblyLoadContext context)
    {
        var missing = new List<string>();
        foreach (var reference in assembly.GetReferencedAssemblies())
        {
            try
            {
                context.LoadFromAssemblyName(reference);
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                missing.Add($"{reference.Name} {reference.Version}");
            }
        }

        return missing;
    }
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Host.Plugins;

namespace SaltApi.Host.Tests;

public sealed class PluginCatalogTests
{
    private static PluginCatalog Load(params string[] dirs) => PluginCatalog.Load(dirs, NullLogger.Instance);

    [Fact]
    public void The_built_in_plugins_beside_the_host_are_found()
    {
        var catalog = Load(TestPlugins.HostPlugins);
        var wsgi = Assert.Single(catalog.Modules, m => m.ConfigKey == "rest_wsgi");
        Assert.Equal("RestWsgi", wsgi.Plugin);
        Assert.Empty(catalog.Failures);
    }

    [Fact]
    public void Each_built_in_plugin_carries_the_netapi_kit_in_its_own_load_context()
    {
        var catalog = Load(TestPlugins.HostPlugins);
        var kits = new List<System.Reflection.Assembly>();
        foreach (var key in new[] { "rest_wsgi", "rest_cherrypy", "rest_tornado" })
        {
            var module = Assert.Single(catalog.Modules, m => m.ConfigKey == key);
            Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(module.AssemblyPath)!, "SaltApi.NetapiKit.dll")), key);
            var context = System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(module.ModuleType.Assembly)!;
            var kit = context.LoadFromAssemblyName(new System.Reflection.AssemblyName("SaltApi.NetapiKit"));
            // The kit is the plugin's own (its folder, its context), never the host's...
            Assert.Same(context, System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(kit));
            Assert.NotSame(System.Runtime.Loader.AssemblyLoadContext.Default, context);
            Assert.StartsWith(Path.GetDirectoryName(module.AssemblyPath)!, kit.Location, StringComparison.Ordinal);
            // ...while the contract it builds on is the host's.
            var contract = context.LoadFromAssemblyName(new System.Reflection.AssemblyName("SaltApi.Abstractions"));
            Assert.Same(typeof(SaltApi.Abstractions.Modules.INetapiModule).Assembly, contract);
            kits.Add(kit);
        }

        Assert.Equal(3, kits.Distinct().Count());
    }

    [Fact]
    public void A_plugin_gets_its_own_version_of_a_package_the_host_also_uses()
    {
        var dir = TestPlugins.Folder("VersionProbe");
        try
        {
            var catalog = Load(dir);
            var probe = Assert.Single(catalog.Modules);
            Assert.Equal("version_probe", probe.ConfigKey);
            var seen = (string)probe.ModuleType.GetProperty("YamlVersion")!.GetValue(null)!;
            Assert.StartsWith("15.3.", seen);
            Assert.StartsWith("16.", typeof(YamlDotNet.Serialization.Deserializer).Assembly.GetName().Version!.ToString());
            // ...while the contract is the host's own: the module is an INetapiModule here.
            Assert.IsAssignableFrom<SaltApi.Abstractions.Modules.INetapiModule>(probe.Create());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_plugin_that_ships_its_own_copy_of_the_contract_still_gets_the_hosts()
    {
        var dir = TestPlugins.Folder("VersionProbe");
        try
        {
            var contract = typeof(SaltApi.Abstractions.Modules.INetapiModule).Assembly.Location;
            File.Copy(contract, Path.Combine(dir, "VersionProbe", Path.GetFileName(contract)));
            var probe = Assert.Single(Load(dir).Modules);
            Assert.IsAssignableFrom<SaltApi.Abstractions.Modules.INetapiModule>(probe.Create());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_plugin_whose_runtimeconfig_names_probing_paths_loads_with_its_own_version()
    {
        var dir = TestPlugins.Folder("VersionProbe");
        try
        {
            File.WriteAllText(Path.Combine(dir, "VersionProbe", "VersionProbe.runtimeconfig.json"),
                """{"runtimeOptions": {"additionalProbingPaths": ["/nonexistent/probe"]}}""");
            var probe = Assert.Single(Load(dir).Modules);
            Assert.StartsWith("15.3.", (string)probe.ModuleType.GetProperty("YamlVersion")!.GetValue(null)!);
            Assert.IsAssignableFrom<SaltApi.Abstractions.Modules.INetapiModule>(probe.Create());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Loading_the_built_in_plugins_does_not_load_framework_assemblies_they_never_use()
    {
        Assert.NotEmpty(Load(TestPlugins.HostPlugins).Modules);
        // The contract references Microsoft.AspNetCore, which references every server and feature;
        // none of these may be loaded just to share the contract.
        var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).ToHashSet();
        Assert.DoesNotContain("Microsoft.AspNetCore.Server.HttpSys", loaded);
        Assert.DoesNotContain("Microsoft.AspNetCore.Server.IIS", loaded);
        Assert.DoesNotContain("Microsoft.AspNetCore.Server.Kestrel.Transport.Quic", loaded);
    }

    [Fact]
    public void A_plugin_folder_can_be_listed_directly()
    {
        var dir = TestPlugins.Folder("VersionProbe");
        try
        {
            Assert.Equal("version_probe", Assert.Single(Load(Path.Combine(dir, "VersionProbe")).Modules).ConfigKey);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_second_claim_of_a_config_key_is_skipped_by_name()
    {
        var dir = TestPlugins.Folder("DuplicateKey", "CrashingModule");
        try
        {
            var catalog = Load(TestPlugins.HostPlugins, dir);
            Assert.Equal("RestWsgi", Assert.Single(catalog.Modules, m => m.ConfigKey == "rest_wsgi").Plugin);
            Assert.Contains(catalog.Modules, m => m.ConfigKey == "crashing_module");
            var failure = Assert.Single(catalog.Failures);
            Assert.StartsWith("DuplicateKey:", failure.Plugin);
            Assert.Contains("'rest_wsgi' is already claimed by RestWsgi", failure.Reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_missing_dependency_is_reported_by_name_and_the_rest_load()
    {
        var dir = TestPlugins.Folder("MissingDependency", "CrashingModule");
        try
        {
            File.Delete(Path.Combine(dir, "MissingDependency", "MissingDependencyLib.dll"));
            var catalog = Load(dir);
            var failure = Assert.Single(catalog.Failures);
            Assert.Equal("MissingDependency", failure.Plugin);
            Assert.Contains("missing dependency MissingDependencyLib", failure.Reason);
            Assert.Equal("crashing_module", Assert.Single(catalog.Modules).ConfigKey);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_plugin_built_against_another_contract_major_version_is_skipped()
    {
        var dir = TestPlugins.Folder("CrashingModule");
        try
        {
            var dll = Path.Combine(dir, "CrashingModule", "CrashingModule.dll");
            Assert.Equal(1, TestPlugins.ReferencedContract(dll)!.Major);
            TestPlugins.PatchContractMajor(dll, 2);
            Assert.Equal(2, TestPlugins.ReferencedContract(dll)!.Major);
            var catalog = Load(dir);
            Assert.Empty(catalog.Modules);
            var failure = Assert.Single(catalog.Failures);
            Assert.Equal("CrashingModule", failure.Plugin);
            Assert.Contains("built against SaltApi.Abstractions 2.0.0.0", failure.Reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Files_that_are_not_plugins_are_reported()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-plugins-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "Junk"));
            File.WriteAllText(Path.Combine(dir, "Junk", "Junk.dll"), "not an assembly");
            Directory.CreateDirectory(Path.Combine(dir, "Empty"));
            var catalog = Load(dir);
            Assert.Empty(catalog.Modules);
            Assert.Equal("Junk", Assert.Single(catalog.Failures).Plugin);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Missing_plugin_dirs_are_not_fatal()
    {
        var catalog = PluginCatalog.Load([TestPlugins.HostPlugins, "/nonexistent/plugins"], NullLogger.Instance);
        Assert.Contains(catalog.Modules, m => m.ConfigKey == "rest_wsgi");
    }
}

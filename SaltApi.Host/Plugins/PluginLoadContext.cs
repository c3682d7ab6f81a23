using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;

namespace SaltApi.Host.Plugins;

/// <summary>
/// A plugin's own load context: the shared assemblies (the contract and everything it references) come from
/// the host's default context; every other assembly from the plugin's folder (its .deps.json first), so a
/// plugin keeps its own versions of its dependencies; framework assemblies not shipped by the plugin fall
/// back to the default context.
/// </summary>
/// <remarks>
/// For memory: the shared set is a list of names, worked out from assembly metadata. Loading the contract's
/// whole reference closure (what a plugin loader that resolves it by loading does) maps about 95 framework
/// assemblies a daemon never runs (IIS, HttpSys, QUIC, XML, DataProtection ...): 10+ MB of idle RSS.
/// An assembly is loaded only when code needs it.
/// </remarks>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private static readonly string[] NativePrefixes = ["", "lib"];
    private static readonly string[] NativeSuffixes = ["", ".so", ".dylib", ".dll"];

    private readonly string baseDir;
    private readonly AssemblyDependencyResolver resolver;
    private readonly IReadOnlySet<string> shared;

    /// <summary>A context for the plugin whose main assembly is <paramref name="mainAssembly"/>.</summary>
    /// <exception cref="InvalidOperationException">The plugin's .deps.json cannot be used.</exception>
    public PluginLoadContext(string mainAssembly, IReadOnlySet<string> shared)
        : base(Path.GetFileNameWithoutExtension(mainAssembly), isCollectible: false)
    {
        baseDir = Path.GetDirectoryName(Path.GetFullPath(mainAssembly))!;
        resolver = new AssemblyDependencyResolver(Path.GetFullPath(mainAssembly));
        this.shared = shared;
    }

    /// <summary>True when the name is one of the host's shared assemblies.</summary>
    public bool IsShared(string name) => shared.Contains(name);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is not { } name)
        {
            return null;
        }

        if (shared.Contains(name))
        {
            try
            {
                return Default.LoadFromAssemblyName(assemblyName);
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                // Not in the host after all: the plugin's own copy, if it has one.
            }
        }

        var path = ResolvePath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    /// <summary>Where the plugin's own copy of the assembly is: .deps.json, a culture folder, or the plugin folder.</summary>
    public string? ResolvePath(AssemblyName assemblyName)
    {
        if (resolver.ResolveAssemblyToPath(assemblyName) is { } resolved && File.Exists(resolved))
        {
            return resolved;
        }

        if (assemblyName.CultureName is { Length: > 0 } culture && culture != "neutral")
        {
            var satellite = Path.Combine(baseDir, culture, assemblyName.Name + ".dll");
            return File.Exists(satellite) ? satellite : null;
        }

        var local = Path.Combine(baseDir, assemblyName.Name + ".dll");
        return File.Exists(local) ? local : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        if (resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } resolved && File.Exists(resolved))
        {
            return LoadUnmanagedDllFromPath(resolved);
        }

        foreach (var prefix in NativePrefixes)
        {
            foreach (var suffix in NativeSuffixes)
            {
                var local = Path.Combine(baseDir, prefix + unmanagedDllName + suffix);
                if (File.Exists(local))
                {
                    return LoadUnmanagedDllFromPath(local);
                }
            }
        }

        return base.LoadUnmanagedDll(unmanagedDllName);
    }

    /// <summary>The default context's trusted platform assemblies (framework and host), by simple name.</summary>
    public static IReadOnlyDictionary<string, string> Platform => PlatformPaths.Value;

    private static readonly Lazy<Dictionary<string, string>> PlatformPaths = new(() =>
    {
        var platform = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
        {
            foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                platform.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            }
        }

        return platform;
    });

    /// <summary>
    /// The simple names of <paramref name="roots"/> and of every assembly they reference, transitively, as the
    /// default context would bind them (its trusted platform assemblies), read from metadata without loading.
    /// </summary>
    public static HashSet<string> SharedClosure(IEnumerable<Assembly> roots)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<(string Name, string? Path)>();
        foreach (var root in roots)
        {
            pending.Enqueue((root.GetName().Name!, string.IsNullOrEmpty(root.Location) ? null : root.Location));
        }

        while (pending.TryDequeue(out var next))
        {
            if (!names.Add(next.Name))
            {
                continue;
            }

            var path = next.Path ?? Platform.GetValueOrDefault(next.Name);
            if (path is null)
            {
                continue;
            }

            foreach (var reference in ReferencedNames(path))
            {
                if (!names.Contains(reference))
                {
                    pending.Enqueue((reference, null));
                }
            }
        }

        return names;
    }

    private static List<string> ReferencedNames(string path)
    {
        var references = new List<string>();
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return references;
            }

            var md = pe.GetMetadataReader();
            foreach (var handle in md.AssemblyReferences)
            {
                references.Add(md.GetString(md.GetAssemblyReference(handle).Name));
            }
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
        }

        return references;
    }
}

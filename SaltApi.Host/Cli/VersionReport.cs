using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace SaltApi.Host.Cli;

/// <summary><c>--version</c> and <c>-V</c>, in the layout of salt.version.versions_report.</summary>
internal static class VersionReport
{
    /// <summary>The Salt release whose salt-api this daemon replaces.</summary>
    public const string SaltCompatibility = "3006";

    /// <summary>This daemon's version (informational, without the source hash).</summary>
    public static string Version { get; } = VersionOf(typeof(VersionReport).Assembly) ?? "0";

    /// <summary>
    /// What <c>--version</c> prints: <c>salt-api 0.1.0 (SaltApi)</c>, in the form of <c>salt-api 3006.0 (Sulfur)</c>.
    /// Deliberate difference: our own version, not Salt's; <c>-V</c> names the Salt release we mirror.
    /// </summary>
    public static string VersionLine => $"{CommandLineParser.Prog} {Version} (SaltApi)";

    /// <summary>The <c>-V</c> text: sections of right-aligned <c>name: version</c> lines, each followed by a " " line.</summary>
    public static string Report(IReadOnlyList<(string Name, string Version)>? plugins = null)
    {
        var sections = new List<(string Title, List<(string Name, string? Value)> Items)>
        {
            ("Salt Version", [("SaltApi", Version), ("Salt", SaltCompatibility + " (compatible)")]),
            (".NET Version", [(".NET", RuntimeInformation.FrameworkDescription.Replace(".NET ", "", StringComparison.Ordinal))]),
            ("Dependency Versions",
            [
                ("McMaster.NETCore.Plugins", Dependency("McMaster.NETCore.Plugins")),
                ("MessagePack", Dependency("MessagePack")),
                ("Microsoft.AspNetCore", Dependency("Microsoft.AspNetCore")),
                ("Microsoft.Extensions.Hosting.Systemd", Dependency("Microsoft.Extensions.Hosting.Systemd")),
                ("NetMQ", Dependency("NetMQ")),
                ("SaltApi.Abstractions", Dependency("SaltApi.Abstractions")),
                ("YamlDotNet", Dependency("YamlDotNet")),
            ]),
        };
        if (plugins is { Count: > 0 })
        {
            sections.Add(("Netapi Plugins", plugins.Select(p => (p.Name, (string?)p.Version)).ToList()));
        }

        sections.Add(("System Versions", SystemVersions()));

        // salt.version.versions_report: padding = longest name (or "Not Installed") + 1, names right-aligned.
        const string notInstalled = "Not Installed";
        var pad = sections.Where(s => s.Title is not "Salt Version" and not ".NET Version")
            .SelectMany(s => s.Items).Select(i => i.Name.Length).Append(notInstalled.Length).Max() + 1;
        var sb = new StringBuilder();
        foreach (var (title, items) in sections)
        {
            sb.Append(title).Append(":\n");
            foreach (var (name, value) in items.OrderBy(i => i.Name, StringComparer.OrdinalIgnoreCase))
            {
                sb.Append(name.PadLeft(pad)).Append(": ").Append(value ?? notInstalled).Append('\n');
            }

            sb.Append(" \n");
        }

        return sb.ToString();
    }

    private static string? Dependency(string assemblyName)
    {
        try
        {
            return VersionOf(Assembly.Load(new AssemblyName(assemblyName)));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return null;
        }
    }

    private static string? VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString();

    private static List<(string Name, string? Value)> SystemVersions()
    {
        var osRelease = ReadOsRelease();
        osRelease.TryGetValue("ID", out var id);
        osRelease.TryGetValue("VERSION_ID", out var versionId);
        osRelease.TryGetValue("VERSION_CODENAME", out var codename);
        osRelease.TryGetValue("NAME", out var name);
        var release = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : Environment.OSVersion.Version.ToString();
        return
        [
            ("dist", Join(id, versionId, codename)),
            ("locale", "utf-8"),
            ("machine", RuntimeInformation.OSArchitecture switch
            {
                Architecture.X64 => "x86_64",
                Architecture.Arm64 => "aarch64",
                var a => a.ToString().ToLowerInvariant(),
            }),
            ("release", release),
            ("system", OperatingSystem.IsLinux() ? "Linux" : RuntimeInformation.OSDescription),
            ("version", Join(name, versionId, codename)),
        ];
    }

    private static string Join(params string?[] parts) => string.Join(' ', parts.Where(p => !string.IsNullOrEmpty(p)));

    private static Dictionary<string, string> ReadOsRelease()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in new[] { "/etc/os-release", "/usr/lib/os-release" })
        {
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file))
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    map[line[..eq]] = line[(eq + 1)..].Trim('"');
                }
            }

            break;
        }

        return map;
    }
}

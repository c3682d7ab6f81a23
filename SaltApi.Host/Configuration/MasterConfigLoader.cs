using System.Collections;
using System.Text.RegularExpressions;
using SaltApi.Host.Logging;
using SaltApi.Protocol.Config;
using SaltApi.PythonValues;

namespace SaltApi.Host.Configuration;

/// <summary>The master config as the daemon sees it, plus where every key came from.</summary>
/// <param name="Options">Salt's <c>opts</c>: the files merged, defaults and derived values applied.</param>
/// <param name="Locations">File and line of each written key, for error messages.</param>
/// <param name="MainFile">The main file read (it may not exist: then only defaults apply).</param>
/// <param name="Files">Every file read, in order.</param>
/// <param name="Warnings">Things Salt logs while loading (an include matching nothing, ...); logged once logging is up.</param>
internal sealed record LoadedConfig(
    OrderedDictionary<string, object?> Options,
    ConfigLocations Locations,
    string MainFile,
    IReadOnlyList<string> Files,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Include files Salt logs at error and skips (YAML that does not parse); logged once logging is up.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>"file, line N" of a key, or "(default)" when the key was not written in any file.</summary>
    public string Where(string dottedKey) => Locations.Find(dottedKey) is { } p ? $"{p.File}, line {p.Line}" : "(default)";

    /// <summary>A <see cref="ConfigFileException"/> naming the key's file and line.</summary>
    public ConfigFileException Error(string dottedKey, string problem)
    {
        var place = Locations.Find(dottedKey);
        return new ConfigFileException(place?.File ?? MainFile, place?.Line ?? 0, dottedKey, problem);
    }

    /// <summary>One <see cref="ConfigFileException"/> listing every error, each naming its key's file and line.</summary>
    public ConfigFileException Error(IReadOnlyList<ConfigError> errors) =>
        new(errors.Select(e => Error(e.Key, e.Message)).ToList());
}

/// <summary>
/// Salt's <c>salt.config.api_config</c> → <c>client_config</c> → <c>master_config</c> for the daemon
/// (spec/06 §3): the main file, <c>default_include</c> then <c>include</c> merged shallowly on top,
/// defaults for every option the API uses, derived values, then <c>~/.saltrc</c>.
/// </summary>
internal static partial class MasterConfigLoader
{
    /// <summary>Salt's default config file: <c>/etc/salt/master</c>.</summary>
    public const string DefaultConfigDir = "/etc/salt";

    /// <summary>The file `dotnet run` and a plain start use when no -c is given (ours).</summary>
    public const string DevConfigFile = "salt-master.yaml";

    /// <summary>Options of ours; Salt has none of these names.</summary>
    public const string PluginDirsKey = "netapi_plugin_dirs";

    /// <summary>
    /// Which file to read: <c>-c DIR</c> → <c>DIR/master</c>; else <c>$SALT_CONFIG_DIR/master</c>;
    /// else <c>./salt-master.yaml</c> when present (ours); else <c>/etc/salt/master</c>, where
    /// <c>$SALT_MASTER_CONFIG</c> may name another file (Salt's load_config: only for the default path).
    /// </summary>
    public static string ResolveMainFile(string? configDir, Func<string, string?> env, string workingDirectory)
    {
        if ((string.IsNullOrEmpty(configDir) ? env("SALT_CONFIG_DIR") : configDir) is { Length: > 0 } dir)
        {
            return Path.GetFullPath(Path.Combine(ExpandUser(dir, env), "master"), workingDirectory);
        }

        var dev = Path.Combine(workingDirectory, DevConfigFile);
        if (File.Exists(dev))
        {
            return dev;
        }

        return env("SALT_MASTER_CONFIG") is { Length: > 0 } named && File.Exists(named)
            ? Path.GetFullPath(named, workingDirectory)
            : Path.Combine(DefaultConfigDir, "master");
    }

    /// <summary>Loads and merges the config; throws <see cref="ConfigFileException"/> with the file and line of an error.</summary>
    public static LoadedConfig Load(string mainFile, Func<string, string?> env)
    {
        var locations = new ConfigLocations();
        var files = new List<string>();
        var warnings = new List<string>();
        var errors = new List<string>();

        // salt.config.load_config: a missing file is not an error, the defaults apply.
        OrderedDictionary<string, object?> overrides = [];
        if (File.Exists(mainFile))
        {
            overrides = SaltYaml.LoadFile(mainFile, locations);
            files.Add(mainFile);
        }

        overrides["conf_file"] = mainFile;
        IdToString(overrides);

        // master_config: default_include (quietly), then include (warns on no match); each result is
        // applied with a SHALLOW top-level update (spec/06 §3.4).
        var defaultInclude = overrides.TryGetValue("default_include", out var di) ? di : DefaultInclude;
        var include = overrides.TryGetValue("include", out var inc) ? inc : null;
        foreach (var (spec, verbose, key) in new[] { (defaultInclude, false, "default_include"), (include, true, "include") })
        {
            var includedLocations = new ConfigLocations();
            var included = IncludeConfig(spec, key, mainFile, verbose, includedLocations, locations, files, warnings, errors, env);
            UpdateShallow(overrides, locations, included, includedLocations);
        }

        var opts = ApplyDefaults(overrides, Path.GetDirectoryName(mainFile) ?? "/", env);

        // client_config: ~/.saltrc (or $XDG_CONFIG_HOME/salt/saltrc, or $SALT_CLIENT_CONFIG) on top.
        var saltrc = SaltrcPath(env);
        if (saltrc is not null && File.Exists(saltrc))
        {
            var rcLocations = new ConfigLocations();
            UpdateShallow(opts, locations, SaltYaml.LoadFile(saltrc, rcLocations), rcLocations);
            files.Add(saltrc);
        }

        // client_config: the address a client connects to.
        if (opts.TryGetValue("interface", out var iface) && iface is string s)
        {
            opts["interface"] = s switch
            {
                "0.0.0.0" => "127.0.0.1",
                "::" => "::1",
                _ => s,
            };
        }

        // client_config: master_uri unless written; MasterConfig reads it, so every request uses this one.
        if (!opts.ContainsKey("master_uri") && opts["interface"] is string host && opts["ret_port"] is long retPort and >= 0 and <= 65535)
        {
            opts["master_uri"] = MasterConfig.ClientUri(host, (int)retPort);
        }

        // api_config: the daemon's own pid and log files.
        opts["pidfile"] = opts["api_pidfile"];
        opts["log_file"] = opts["api_logfile"];
        return new LoadedConfig(opts, locations, mainFile, files, warnings) { Errors = errors };
    }

    /// <summary>Salt's include_config: globbed, sorted, deep-merged files; nested includes honoured.</summary>
    private static OrderedDictionary<string, object?> IncludeConfig(
        object? spec,
        string key,
        string origPath,
        bool verbose,
        ConfigLocations into,
        ConfigLocations parentLocations,
        List<string> files,
        List<string> warnings,
        List<string> errors,
        Func<string, string?> env)
    {
        var configuration = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var patterns = spec switch
        {
            null => [],
            string one when one.Length == 0 => [],
            string one => [one],
            IList list when list.Cast<object?>().All(i => i is string) => list.Cast<string>().ToList(),
            _ => throw new ConfigFileException(
                parentLocations.Find(key)?.File ?? origPath,
                parentLocations.Find(key)?.Line ?? 0,
                key,
                "expected a file name or glob, or a list of them"),
        };

        foreach (var raw in patterns)
        {
            var pattern = ExpandUser(raw, env);
            if (!Path.IsPathRooted(pattern))
            {
                pattern = Path.Combine(Path.GetDirectoryName(origPath) ?? "/", pattern);
            }

            var matches = Glob(pattern);
            if (matches.Count == 0 && verbose)
            {
                warnings.Add($"Warning parsing configuration file: \"include\" path/glob '{pattern}' matches no files");
            }

            foreach (var file in matches)
            {
                // As include_config: a file that does not parse (or is not a map) is logged at error
                // and left out, the rest of the config is loaded. A file that cannot be read stops the
                // daemon, as Salt's fopen error does.
                var fileLocations = new ConfigLocations();
                OrderedDictionary<string, object?> opts;
                try
                {
                    opts = SaltYaml.LoadFile(file, fileLocations);
                }
                catch (ConfigFileException e) when (e.InnerException is not (IOException or UnauthorizedAccessException))
                {
                    errors.Add($"{e.Message} (this file is skipped)");
                    continue;
                }

                files.Add(file);
                IdToString(opts);
                if (opts.TryGetValue("include", out var nested) && nested is not null && !(nested is string { Length: 0 }))
                {
                    var nestedLocations = new ConfigLocations();
                    var nestedOpts = IncludeConfig(nested, "include", file, verbose, nestedLocations, fileLocations, files, warnings, errors, env);
                    UpdateShallow(opts, fileLocations, nestedOpts, nestedLocations);
                }

                DeepUpdate(configuration, opts);
                into.Overlay(fileLocations);
            }
        }

        return configuration;
    }

    /// <summary>A top-level <c>dict.update</c>; each key replaced takes its place (file, line) from the update.</summary>
    private static void UpdateShallow(OrderedDictionary<string, object?> dest, ConfigLocations destLocations, OrderedDictionary<string, object?> upd, ConfigLocations updLocations)
    {
        foreach (var (k, v) in upd)
        {
            dest[k] = v;
            destLocations.ReplaceTree(updLocations, k);
        }
    }

    /// <summary>salt.utils.dictupdate.update(dest, upd, recursive_update=True, merge_lists=True).</summary>
    internal static void DeepUpdate(OrderedDictionary<string, object?> dest, OrderedDictionary<string, object?> upd)
    {
        foreach (var (key, val) in upd)
        {
            dest.TryGetValue(key, out var current);
            if (current is OrderedDictionary<string, object?> destMap && val is OrderedDictionary<string, object?> updMap)
            {
                DeepUpdate(destMap, updMap);
            }
            else if (current is List<object?> destList && val is List<object?> updList)
            {
                var merged = new List<object?>(destList);
                merged.AddRange(updList.Where(x => !merged.Any(m => PythonEquals(m, x))));
                dest[key] = merged;
            }
            else
            {
                dest[key] = val;
            }
        }
    }

    /// <summary>Python's <c>==</c> on plain values (1 == 1.0 == True).</summary>
    internal static bool PythonEquals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (null, _) or (_, null) => false,
        (string x, string y) => x == y,
        (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
        (IReadOnlyDictionary<string, object?> x, IReadOnlyDictionary<string, object?> y) =>
            x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var o) && PythonEquals(kv.Value, o)),
        (IList x, IList y) => x.Count == y.Count && Enumerable.Range(0, x.Count).All(i => PythonEquals(x[i], y[i])),
        _ when Number(a) is { } na && Number(b) is { } nb => na == nb,
        _ => false,
    };

    private static double? Number(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        ulong u => u,
        double d => d,
        _ => null,
    };

    private static void IdToString(OrderedDictionary<string, object?> opts)
    {
        // salt.config._read_conf_file: "allow using numeric ids: convert int to string"
        if (opts.TryGetValue("id", out var id) && id is not string && id is not null)
        {
            opts["id"] = SaltYaml.KeyText(id);
        }
    }

    /// <summary>Salt's defaults for every option the API uses (spec/06 §3 table), then derived values.</summary>
    private static OrderedDictionary<string, object?> ApplyDefaults(OrderedDictionary<string, object?> overrides, string configDir, Func<string, string?> env)
    {
        var opts = new OrderedDictionary<string, object?>(Defaults(env), StringComparer.Ordinal);
        foreach (var (k, v) in overrides)
        {
            opts[k] = v;
        }

        // apply_master_config
        if (opts["nodegroups"] is null)
        {
            opts["nodegroups"] = new OrderedDictionary<string, object?>();
        }

        if (opts["hash_type"] is string hashType)
        {
            opts["hash_type"] = hashType.ToLowerInvariant();
        }

        if (opts["external_auth"] is IReadOnlyDictionary<string, object?> eauth && eauth.ContainsKey("rest"))
        {
            opts["keep_acl_in_token"] = true;
        }

        if (opts["id"] is null)
        {
            opts["id"] = System.Net.Dns.GetHostName() + "_master";
        }

        // Paths: root_dir prepended as salt.config.prepend_root_dir does. Deliberate difference: a
        // relative path is taken relative to the main config file's directory (Salt joins it to
        // root_dir, "/"), so a config beside a checkout works wherever the daemon is started.
        var rootDir = opts["root_dir"] as string ?? "/";
        foreach (var option in PathOptions)
        {
            // As apply_master_config for log_file: a syslog URL is not a path (Salt's api_config still
            // prepends root_dir to api_logfile, making udp://host a file "/udp://host"; we do not).
            if (opts.TryGetValue(option, out var value) && value is string path && path.Length > 0 && !SyslogTarget.IsUrl(path))
            {
                opts[option] = RootPath(ExpandUser(path, env), rootDir, configDir);
            }
        }

        var pluginDirs = opts[PluginDirsKey] is string oneDir ? new List<object?> { oneDir } : opts[PluginDirsKey];
        if (pluginDirs is List<object?> dirs)
        {
            opts[PluginDirsKey] = dirs.Select(d => d is string p ? RootPath(ExpandUser(p, env), "/", configDir) : d).ToList();
        }

        // Derived as apply_master_config does (after root_dir).
        var cachedir = (string)opts["cachedir"]!;
        opts["token_dir"] = Path.Combine(cachedir, "tokens");
        opts["syndic_dir"] = Path.Combine(cachedir, "syndics");
        if (opts["extension_modules"] is null)
        {
            opts["extension_modules"] = Path.Combine(cachedir, "extmods");
        }

        if (opts["sock_dir"] is string sockDir && sockDir.Length > cachedir.Length + 10)
        {
            // Salt's unix-socket path guard (spec/02 §1).
            opts["sock_dir"] = Path.Combine(cachedir, ".salt-unix");
        }

        return opts;
    }

    private static readonly string[] PathOptions =
    [
        "api_pidfile", "api_logfile", "pki_dir", "cachedir", "sock_dir", "extension_modules", "key_logfile",
    ];

    private static string RootPath(string path, string rootDir, string configDir)
    {
        if (!Path.IsPathRooted(path))
        {
            path = Path.GetFullPath(Path.Combine(configDir, path));
        }

        if (rootDir is "/" or "")
        {
            return path;
        }

        var root = Path.GetFullPath(rootDir, configDir).TrimEnd('/');
        return path == root || path.StartsWith(root + "/", StringComparison.Ordinal) ? path : root + path;
    }

    private static string? SaltrcPath(Func<string, string?> env)
    {
        if (env("SALT_CLIENT_CONFIG") is { Length: > 0 } named)
        {
            return named;
        }

        var home = Home(env);
        if (string.IsNullOrEmpty(home))
        {
            return null;
        }

        var xdg = Path.Combine(env("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".config"), "salt");
        return Directory.Exists(xdg) ? Path.Combine(xdg, "saltrc") : Path.Combine(home, ".saltrc");
    }

    /// <summary>Python's os.path.expanduser for <c>~</c> and <c>~/...</c>.</summary>
    internal static string ExpandUser(string path, Func<string, string?> env)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            return Home(env) + path[1..];
        }

        return path;
    }

    private static string Home(Func<string, string?> env) =>
        env("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}

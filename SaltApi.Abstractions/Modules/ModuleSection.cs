using SaltApi.PythonValues;

namespace SaltApi.Abstractions.Modules;

/// <summary>
/// Typed reads of a module's config section (the YAML-loaded map), through the daemon's one config binder
/// (<see cref="ConfigBinder"/>, which also binds the master config and the daemon's own options). An absent or
/// null key gives the fallback; a value of the wrong type or out of range is recorded as a
/// <see cref="ConfigProblem"/> naming the dotted key, the value and what was expected, and the fallback is
/// returned, so a binder reads every option and reports every problem at once through <see cref="ThrowIfInvalid"/>.
/// Unknown keys are ignored, as Salt ignores them.
/// </summary>
public sealed class ModuleSection
{
    /// <summary>Reads <paramref name="values"/>, the section of <paramref name="configKey"/>.</summary>
    public ModuleSection(string configKey, IReadOnlyDictionary<string, object?> values)
    {
        ArgumentNullException.ThrowIfNull(configKey);
        ArgumentNullException.ThrowIfNull(values);
        ConfigKey = configKey;
        Binder = new ConfigBinder(values, configKey);
    }

    /// <summary>The section's key in the master config, e.g. <c>rest_wsgi</c>.</summary>
    public string ConfigKey { get; }

    /// <summary>The binder of the section: its <see cref="ConfigBinder.Section"/> reads nested maps into the same problems.</summary>
    public ConfigBinder Binder { get; }

    /// <summary>The section as loaded.</summary>
    public IReadOnlyDictionary<string, object?> Values => Binder.Values;

    /// <summary>The problems found so far.</summary>
    public IReadOnlyList<ConfigProblem> Problems => Binder.Errors.Select(e => new ConfigProblem(e.Key, e.Message)).ToList();

    /// <summary>Options written in a way Salt reads surprisingly (a quoted <c>"False"</c> that is true); the module logs them at start.</summary>
    public IReadOnlyList<ConfigProblem> Warnings => Binder.Warnings.Select(e => new ConfigProblem(e.Key, e.Message)).ToList();

    /// <summary>The key is written with a value other than null.</summary>
    public bool Has(string key) => Binder.Has(key);

    /// <summary>Records a problem of <paramref name="key"/> found by the module's own checks.</summary>
    public void Problem(string key, string message) => Binder.Problem(key, message);

    /// <summary>Throws one <see cref="NetapiConfigException"/> with every problem, if there is any.</summary>
    public void ThrowIfInvalid()
    {
        if (Binder.Errors.Count > 0)
        {
            throw new NetapiConfigException(Problems);
        }
    }

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>], read as Python's <c>int()</c> (see <see cref="ConfigBinder.GetInt"/>).</summary>
    public int GetInt(string key, int fallback, int min = int.MinValue, int max = int.MaxValue) => Binder.GetInt(key, fallback, min, max);

    /// <summary>A long in [<paramref name="min"/>, <paramref name="max"/>], read as Python's <c>int()</c>.</summary>
    public long GetLong(string key, long fallback, long min = long.MinValue, long max = long.MaxValue) => Binder.GetLong(key, fallback, min, max);

    /// <summary>A TCP port (0-65535, 0 picks a free one); required when <paramref name="fallback"/> is null.</summary>
    public int GetPort(string key = "port", int? fallback = null) => Binder.GetPort(key, fallback);

    /// <summary>A size in bytes (a non-negative integer).</summary>
    public long GetSize(string key, long fallback) => Binder.GetSize(key, fallback);

    /// <summary>A duration in seconds (a non-negative integer or float).</summary>
    public TimeSpan GetSeconds(string key, TimeSpan fallback) => Binder.GetSeconds(key, fallback);

    /// <summary>A boolean as Salt's <c>if opts.get(key)</c> reads it, by Python's <c>bool()</c> (see <see cref="ConfigBinder.GetBool"/>).</summary>
    public bool GetBool(string key, bool fallback) => Binder.GetBool(key, fallback);

    /// <summary>A switch that only a YAML <c>false</c> turns off, as Salt's <c>opts.get(key, True) is False</c> reads it.</summary>
    public bool GetNotFalse(string key) => Binder.GetNotFalse(key);

    /// <summary>A string, or null when absent; a number or boolean is taken as its text (<c>True</c>/<c>False</c> as Python writes them).</summary>
    public string? GetString(string key) => Binder.GetString(key);

    /// <summary>A string, or <paramref name="fallback"/> when absent.</summary>
    public string GetString(string key, string fallback) => Binder.GetString(key, fallback);

    /// <summary>A list of strings: a YAML list, or one string of comma-separated items; empty when absent.</summary>
    public IReadOnlyList<string> GetStringList(string key) => Binder.GetStringList(key);

    /// <summary>A nested map, or null when absent.</summary>
    public IReadOnlyDictionary<string, object?>? GetMap(string key) => Binder.GetMap(key);

    /// <summary>A map from a value, its keys as text (a YAML map, or any dictionary); null for anything else.</summary>
    public static Dictionary<string, object?>? ToMap(object? value) => ConfigBinder.ToMap(value);

    /// <summary>A list of strings from a value: a list of scalars, one comma-separated string, or one scalar; null for anything else.</summary>
    public static IReadOnlyList<string>? ToStringList(object? value) => ConfigBinder.ToStringList(value);
}

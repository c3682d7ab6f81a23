using System.Collections;
using System.Globalization;

namespace SaltApi.Protocol.Config;

/// <summary>A config value of the wrong type; the host adds the file and line.</summary>
public sealed class ConfigException(string key, string message) : Exception($"{key}: {message}")
{
    /// <summary>The offending key, dotted for nested ones (<c>rest_cherrypy.port</c>).</summary>
    public string Key { get; } = key;
}

/// <summary>Typed reads of a YAML-loaded config map, with Salt's defaults for absent keys.</summary>
public static class ConfigValues
{
    /// <summary>A string option; scalars of other types are taken as their text, as Python would use them.</summary>
    public static string GetString(IReadOnlyDictionary<string, object?> map, string key, string fallback, string? path = null) =>
        map.TryGetValue(key, out var v) && v is not null
            ? v switch
            {
                string s => s,
                bool or long or double or ulong => Convert.ToString(v, CultureInfo.InvariantCulture)!,
                _ => throw new ConfigException(Dotted(path, key), "expected a string"),
            }
            : fallback;

    /// <summary>An integer option; an int-looking string is accepted.</summary>
    public static int GetInt(IReadOnlyDictionary<string, object?> map, string key, int fallback, string? path = null)
    {
        if (!map.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        return v switch
        {
            long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
            string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
            double d when d == Math.Floor(d) && Math.Abs(d) < int.MaxValue => (int)d,
            _ => throw new ConfigException(Dotted(path, key), "expected an integer"),
        };
    }

    /// <summary>A number of seconds (int or float).</summary>
    public static double GetSeconds(IReadOnlyDictionary<string, object?> map, string key, double fallback, string? path = null)
    {
        if (!map.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        return v switch
        {
            long l => l,
            double d => d,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => throw new ConfigException(Dotted(path, key), "expected a number"),
        };
    }

    /// <summary>A boolean option with Python truthiness for non-bools.</summary>
    public static bool GetBool(IReadOnlyDictionary<string, object?> map, string key, bool fallback) =>
        map.TryGetValue(key, out var v) ? Truthy(v) : fallback;

    /// <summary>Python's <c>bool(value)</c>.</summary>
    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0 && !s.Equals("false", StringComparison.OrdinalIgnoreCase) && s != "0",
        ICollection c => c.Count > 0,
        _ => true,
    };

    /// <summary>A list of strings; a single string is a one-item list.</summary>
    public static IReadOnlyList<string> GetStringList(IReadOnlyDictionary<string, object?> map, string key, string? path = null)
    {
        if (!map.TryGetValue(key, out var v) || v is null)
        {
            return [];
        }

        return v switch
        {
            string s => [s],
            IEnumerable<object?> list => list.Select(i => i switch
            {
                string s => s,
                null => throw new ConfigException(Dotted(path, key), "expected a list of strings"),
                _ => Convert.ToString(i, CultureInfo.InvariantCulture)!,
            }).ToList(),
            _ => throw new ConfigException(Dotted(path, key), "expected a list"),
        };
    }

    /// <summary>A nested map; absent or null is empty.</summary>
    public static IReadOnlyDictionary<string, object?> GetMap(IReadOnlyDictionary<string, object?> map, string key, string? path = null)
    {
        if (!map.TryGetValue(key, out var v) || v is null)
        {
            return Empty;
        }

        return v as IReadOnlyDictionary<string, object?> ?? throw new ConfigException(Dotted(path, key), "expected a map");
    }

    /// <summary>An empty read-only map.</summary>
    public static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    private static string Dotted(string? path, string key) => path is null ? key : $"{path}.{key}";
}

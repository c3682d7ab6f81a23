using System.Collections;
using System.Globalization;
using SaltApi.PythonValues;

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

    /// <summary>
    /// An integer option, read as Python's <c>int()</c>: a float truncated toward zero, <c>true</c>/<c>false</c>
    /// as 1/0, a string of decimal digits (sign, spaces around, single underscores between digits).
    /// </summary>
    public static int GetInt(IReadOnlyDictionary<string, object?> map, string key, int fallback, string? path = null)
    {
        if (!map.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        return v switch
        {
            bool b => b ? 1 : 0,
            long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
            string s when PythonInt(s) is { } i and >= int.MinValue and <= int.MaxValue => (int)i,
            double d when !double.IsNaN(d) && Math.Abs(d) < int.MaxValue => (int)Math.Truncate(d),
            _ => throw new ConfigException(Dotted(path, key), "expected an integer"),
        };
    }

    /// <summary>Python's <c>int(text)</c> for base 10, or null where it raises ValueError.</summary>
    public static long? PythonInt(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        var negative = s.StartsWith('-');
        var digits = s.Length > 0 && s[0] is '+' or '-' ? s[1..] : s;
        if (digits.Length == 0 || !char.IsAsciiDigit(digits[0]) || !char.IsAsciiDigit(digits[^1])
            || digits.Contains("__", StringComparison.Ordinal) || digits.Any(c => !char.IsAsciiDigit(c) && c != '_'))
        {
            return null;
        }

        return long.TryParse(digits.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? (negative ? -n : n)
            : null;
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

    /// <summary>A boolean option as Salt's <c>if opts.get(key)</c> reads it: Python's <c>bool()</c> (a quoted "False" is true).</summary>
    public static bool GetBool(IReadOnlyDictionary<string, object?> map, string key, bool fallback) =>
        map.TryGetValue(key, out var v) ? Truthy(v) : fallback;

    /// <summary>Python's <c>bool(value)</c>: any non-empty string is true, <c>"False"</c> and <c>"0"</c> included.</summary>
    public static bool Truthy(object? v) => PyScalar.Truthy(v);

    /// <summary>
    /// A string Salt's <c>bool()</c> reads as true that looks false to a reader (<c>"False"</c>, <c>"no"</c>,
    /// <c>"off"</c>, <c>"0"</c>, <c>"none"</c>, <c>"null"</c>): worth a warning naming the key.
    /// </summary>
    public static bool LooksFalseButIsTrue(object? v) =>
        v is string s && s.Trim().ToLowerInvariant() is "false" or "no" or "off" or "0" or "none" or "null" or "n";

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

using System.Collections;
using System.Globalization;

namespace SaltApi.Abstractions.Modules;

/// <summary>
/// Typed reads of a module's config section (the YAML-loaded map). An absent or null key gives the
/// fallback; a value of the wrong type or out of range is recorded as a <see cref="ConfigProblem"/> naming
/// the dotted key, and the fallback is returned, so a binder reads every option and reports every
/// problem at once through <see cref="ThrowIfInvalid"/>.
/// </summary>
public sealed class ModuleSection
{
    private readonly List<ConfigProblem> problems = [];
    private readonly List<ConfigProblem> warnings = [];

    /// <summary>Reads <paramref name="values"/>, the section of <paramref name="configKey"/>.</summary>
    public ModuleSection(string configKey, IReadOnlyDictionary<string, object?> values)
    {
        ArgumentNullException.ThrowIfNull(configKey);
        ArgumentNullException.ThrowIfNull(values);
        ConfigKey = configKey;
        Values = values;
    }

    /// <summary>The section's key in the master config, e.g. <c>rest_wsgi</c>.</summary>
    public string ConfigKey { get; }

    /// <summary>The section as loaded.</summary>
    public IReadOnlyDictionary<string, object?> Values { get; }

    /// <summary>The problems found so far.</summary>
    public IReadOnlyList<ConfigProblem> Problems => problems;

    /// <summary>The key is written with a value other than null.</summary>
    public bool Has(string key) => Values.TryGetValue(key, out var v) && v is not null;

    /// <summary>Records a problem of <paramref name="key"/> found by the module's own checks.</summary>
    public void Problem(string key, string message) => problems.Add(new ConfigProblem($"{ConfigKey}.{key}", message));

    /// <summary>Throws one <see cref="NetapiConfigException"/> with every problem, if there is any.</summary>
    public void ThrowIfInvalid()
    {
        if (problems.Count > 0)
        {
            throw new NetapiConfigException(problems.ToList());
        }
    }

    /// <summary>
    /// An integer in [<paramref name="min"/>, <paramref name="max"/>], read as Python's <c>int()</c> reads the
    /// value: a float is truncated toward zero, <c>true</c>/<c>false</c> are 1/0, a string is decimal digits
    /// with an optional sign, surrounding spaces and single underscores between digits.
    /// </summary>
    public int GetInt(string key, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
        (int)GetLong(key, fallback, Math.Max(min, int.MinValue), Math.Min(max, int.MaxValue));

    /// <summary>A long in [<paramref name="min"/>, <paramref name="max"/>], read as Python's <c>int()</c> (see <see cref="GetInt"/>).</summary>
    public long GetLong(string key, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        long? parsed = v switch
        {
            bool b => b ? 1 : 0,
            long l => l,
            int i => i,
            ulong u when u <= long.MaxValue => (long)u,
            double d when !double.IsNaN(d) && Math.Abs(d) < 9.2e18 => (long)Math.Truncate(d),
            string s => PythonInt(s),
            _ => null,
        };
        if (parsed is not { } n)
        {
            Problem(key, $"expected an integer, not {Show(v)}");
            return fallback;
        }

        if (n < min || n > max)
        {
            Problem(key, max == long.MaxValue ? $"must be at least {min}, not {n}" : $"must be from {min} to {max}, not {n}");
            return fallback;
        }

        return n;
    }

    // int("text"): optional sign, decimal digits, single underscores between digits, spaces around.
    private static long? PythonInt(string text)
    {
        var s = text.Trim();
        if (s.Length > 0 && s[0] is '+' or '-')
        {
            s = s[0] == '-' ? "-" + s[1..] : s[1..];
        }

        var digits = s.StartsWith('-') ? s[1..] : s;
        if (digits.Length == 0 || !char.IsAsciiDigit(digits[0]) || !char.IsAsciiDigit(digits[^1]) || digits.Contains("__", StringComparison.Ordinal)
            || digits.Any(c => !char.IsAsciiDigit(c) && c != '_'))
        {
            return null;
        }

        return long.TryParse(s.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    /// <summary>A TCP port (0-65535, 0 picks a free one); required when <paramref name="fallback"/> is null.</summary>
    public int GetPort(string key = "port", int? fallback = null)
    {
        if (!Has(key))
        {
            if (fallback is { } f)
            {
                return f;
            }

            Problem(key, "required: a TCP port (0-65535)");
            return 0;
        }

        var before = problems.Count;
        var raw = Values[key];
        var port = raw is bool || (raw is double d && d != Math.Floor(d)) ? -1 : GetInt(key, 0);
        if (problems.Count > before || port is < 0 or > 65535)
        {
            problems.RemoveRange(before, problems.Count - before);
            Problem(key, $"expected a TCP port (0-65535), not {Show(Values[key])}");
            return 0;
        }

        return port;
    }

    /// <summary>A size in bytes (a non-negative integer).</summary>
    public long GetSize(string key, long fallback) => GetLong(key, fallback, 0);

    /// <summary>A duration in seconds (a non-negative integer or float).</summary>
    public TimeSpan GetSeconds(string key, TimeSpan fallback)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        double? seconds = v switch
        {
            long l => l,
            int i => i,
            double d => d,
            string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        };
        if (seconds is not { } n || double.IsNaN(n) || n < 0 || n > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            Problem(key, $"expected a number of seconds, not {Show(v)}");
            return fallback;
        }

        return TimeSpan.FromSeconds(n);
    }

    /// <summary>
    /// A boolean as Salt's <c>if opts.get(key)</c> reads it, by Python's <c>bool()</c>: YAML's true/false,
    /// a number when not 0, a string when not empty, a list or map when not empty. So a quoted
    /// <c>"False"</c> is true, as for salt-api; such a string (false, no, off, 0, none, null) is recorded
    /// in <see cref="Warnings"/>, for the module to log at start.
    /// </summary>
    public bool GetBool(string key, bool fallback)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        WarnIfFalseLooking(key, v, "true");
        return v switch
        {
            bool b => b,
            long l => l != 0,
            int i => i != 0,
            ulong u => u != 0,
            double d => d != 0,
            string s => s.Length > 0,
            ICollection c => c.Count > 0,
            IEnumerable e => e.Cast<object?>().Any(),
            _ => true,
        };
    }

    /// <summary>
    /// A switch that only a YAML <c>false</c> turns off, as Salt's <c>opts.get(key, True) is False</c>
    /// reads it (rest_cherrypy's <c>enable_sessions</c>): <c>0</c>, <c>"false"</c> or <c>no</c> quoted leave it on.
    /// </summary>
    public bool GetNotFalse(string key)
    {
        if (!Values.TryGetValue(key, out var v) || v is not false)
        {
            if (v is not null)
            {
                WarnIfFalseLooking(key, v, "on");
            }

            return true;
        }

        return false;
    }

    /// <summary>Options written in a way Salt reads surprisingly (a quoted <c>"False"</c> that is true); the module logs them at start.</summary>
    public IReadOnlyList<ConfigProblem> Warnings => warnings;

    private void WarnIfFalseLooking(string key, object value, string reading)
    {
        var looksFalse = value switch
        {
            string s => s.Trim().ToLowerInvariant() is "false" or "no" or "off" or "0" or "none" or "null" or "n",
            long or int or double when reading == "on" => !GetBoolValue(value),
            _ => false,
        };
        if (looksFalse)
        {
            warnings.Add(new ConfigProblem(
                $"{ConfigKey}.{key}",
                $"{Show(value)} reads as {reading}, as salt-api reads it (Python's bool() of a non-empty string); write false without quotes to turn it off"));
        }
    }

    private static bool GetBoolValue(object value) => value switch
    {
        long l => l != 0,
        int i => i != 0,
        double d => d != 0,
        _ => true,
    };

    /// <summary>A string, or null when absent; a number or boolean is taken as its text (<c>True</c>/<c>False</c> as Python writes them).</summary>
    public string? GetString(string key)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return null;
        }

        if (Scalar(v) is { } text)
        {
            return text;
        }

        Problem(key, $"expected a string, not {Show(v)}");
        return null;
    }

    /// <summary>A string, or <paramref name="fallback"/> when absent.</summary>
    public string GetString(string key, string fallback) => GetString(key) ?? fallback;

    /// <summary>A list of strings: a YAML list, or one string of comma-separated items; empty when absent.</summary>
    public IReadOnlyList<string> GetStringList(string key)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return [];
        }

        if (ToStringList(v) is { } list)
        {
            return list;
        }

        Problem(key, $"expected a list of strings, not {Show(v)}");
        return [];
    }

    /// <summary>A nested map, or null when absent.</summary>
    public IReadOnlyDictionary<string, object?>? GetMap(string key)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return null;
        }

        if (v is IReadOnlyDictionary<string, object?> map)
        {
            return map;
        }

        Problem(key, $"expected a map, not {Show(v)}");
        return null;
    }

    /// <summary>A map from a value, its keys as text (a YAML map, or any dictionary); null for anything else.</summary>
    public static Dictionary<string, object?>? ToMap(object? value)
    {
        switch (value)
        {
            case IEnumerable<KeyValuePair<string, object?>> typed:
                return typed.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            case IDictionary dict:
                var d = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (DictionaryEntry e in dict)
                {
                    d[Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? ""] = e.Value;
                }

                return d;
            default:
                return null;
        }
    }

    /// <summary>A list of strings from a value: a list of scalars, one comma-separated string, or one scalar; null for anything else.</summary>
    public static IReadOnlyList<string>? ToStringList(object? value) => value switch
    {
        null => [],
        string s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        IDictionary or IEnumerable<KeyValuePair<string, object?>> => null,
        IEnumerable e => Items(e),
        _ => Scalar(value) is { } one ? [one] : null,
    };

    private static List<string>? Items(IEnumerable e)
    {
        var items = new List<string>();
        foreach (var item in e)
        {
            if (item is null)
            {
                continue;
            }

            if (Scalar(item) is not { } text)
            {
                return null;
            }

            items.Add(text);
        }

        return items;
    }

    private static string? Scalar(object? v) => v switch
    {
        string s => s,
        bool b => b ? "True" : "False",
        long or int or ulong or double => Convert.ToString(v, CultureInfo.InvariantCulture),
        _ => null,
    };

    // The value as an error message shows it: short, and never a whole nested structure.
    private static string Show(object? v) => v switch
    {
        string s => "'" + (s.Length > 60 ? s[..60] + "..." : s) + "'",
        IDictionary or IEnumerable<KeyValuePair<string, object?>> => "a map",
        IEnumerable => "a list",
        _ => Scalar(v) ?? v?.GetType().Name ?? "None",
    };
}

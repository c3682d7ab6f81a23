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

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>]; an integer-looking string or a whole float is accepted.</summary>
    public int GetInt(string key, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
        (int)GetLong(key, fallback, min, max);

    /// <summary>A long in [<paramref name="min"/>, <paramref name="max"/>]; an integer-looking string or a whole float is accepted.</summary>
    public long GetLong(string key, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        long? parsed = v switch
        {
            long l => l,
            int i => i,
            ulong u when u <= long.MaxValue => (long)u,
            double d when d == Math.Floor(d) && Math.Abs(d) < 9.2e18 => (long)d,
            string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
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
        var port = GetInt(key, 0);
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
    /// A boolean as the netapi modules read their options (not Python's <c>bool()</c>, for which any
    /// non-empty string is true): YAML's true/false; the strings true/yes/on/1 and false/no/off/0/"" in
    /// any case; a number is true when not 0. Anything else is a problem.
    /// </summary>
    public bool GetBool(string key, bool fallback)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        switch (v)
        {
            case bool b:
                return b;
            case long l:
                return l != 0;
            case int i:
                return i != 0;
            case double d:
                return d != 0;
            case string s:
                switch (s.Trim().ToLowerInvariant())
                {
                    case "true" or "yes" or "on" or "1":
                        return true;
                    case "false" or "no" or "off" or "0" or "":
                        return false;
                }

                break;
        }

        Problem(key, $"expected true or false, not {Show(v)}");
        return fallback;
    }

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

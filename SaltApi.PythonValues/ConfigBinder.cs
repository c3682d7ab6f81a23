using System.Collections;
using System.Globalization;

namespace SaltApi.PythonValues;

/// <summary>One wrong option: its dotted key, and what is wrong (the value seen, what was expected).</summary>
/// <param name="Key">The dotted key from the top of the config: <c>rest_wsgi.port</c>, <c>ret_port</c>.</param>
/// <param name="Message">What is wrong with it, without the key.</param>
public sealed record ConfigError(string Key, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {Message}";
}

/// <summary>
/// The one binder of the config (the master config, the daemon's own options, each module's section): typed
/// reads of a YAML-loaded map as Salt's Python reads the values. An absent or null key gives the fallback; a
/// value of the wrong type or out of range is recorded as a <see cref="ConfigError"/> naming the dotted key,
/// the value and what was expected, and the fallback is returned, so that every option is read and every
/// problem reported at once (as YARP's ConfigValidator does). Unknown keys are ignored, as Salt ignores them.
/// A <see cref="Section"/> shares its parent's errors.
/// </summary>
public sealed class ConfigBinder
{
    private readonly List<ConfigError> errors;
    private readonly List<ConfigError> warnings;

    /// <summary>Reads <paramref name="values"/>, found at <paramref name="path"/> (null: the top of the config).</summary>
    public ConfigBinder(IReadOnlyDictionary<string, object?> values, string? path = null)
        : this(values, path, [], [])
    {
    }

    private ConfigBinder(IReadOnlyDictionary<string, object?> values, string? path, List<ConfigError> errors, List<ConfigError> warnings)
    {
        ArgumentNullException.ThrowIfNull(values);
        Values = values;
        Path = path;
        this.errors = errors;
        this.warnings = warnings;
    }

    /// <summary>An empty read-only map.</summary>
    public static IReadOnlyDictionary<string, object?> Empty { get; } = new Dictionary<string, object?>();

    /// <summary>The dotted key of this map, or null at the top of the config.</summary>
    public string? Path { get; }

    /// <summary>The map as loaded.</summary>
    public IReadOnlyDictionary<string, object?> Values { get; }

    /// <summary>Every problem found so far, by this binder and its sections.</summary>
    public IReadOnlyList<ConfigError> Errors => errors;

    /// <summary>Options written in a way Salt reads surprisingly (a quoted <c>"False"</c> that is true), worth a warning.</summary>
    public IReadOnlyList<ConfigError> Warnings => warnings;

    /// <summary>The dotted key of <paramref name="key"/> in this map.</summary>
    public string KeyPath(string key) => Path is null ? key : $"{Path}.{key}";

    /// <summary>The key is written with a value other than null.</summary>
    public bool Has(string key) => Values.TryGetValue(key, out var v) && v is not null;

    /// <summary>Records a problem of <paramref name="key"/> found by the caller's own checks.</summary>
    public void Problem(string key, string message) => errors.Add(new ConfigError(KeyPath(key), message));

    /// <summary>Records a warning about <paramref name="key"/>: a value read as Salt reads it, but likely not as meant.</summary>
    public void Warn(string key, string message) => warnings.Add(new ConfigError(KeyPath(key), message));

    /// <summary>Records a problem of this map as a whole.</summary>
    public void Problem(string message) => errors.Add(new ConfigError(Path ?? "", message));

    /// <summary>
    /// The nested map of <paramref name="key"/>, sharing this binder's errors: empty when absent or null; anything
    /// but a map is a problem (then empty too).
    /// </summary>
    public ConfigBinder Section(string key) => new(GetMap(key) ?? Empty, KeyPath(key), errors, warnings);

    /// <summary>
    /// An integer in [<paramref name="min"/>, <paramref name="max"/>], read as Python's <c>int()</c> reads the
    /// value: a float is truncated toward zero, <c>true</c>/<c>false</c> are 1/0, a string is decimal digits
    /// with an optional sign, surrounding spaces and single underscores between digits.
    /// </summary>
    public int GetInt(string key, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
        (int)GetLong(key, fallback, min, max);

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

        var raw = Values[key];
        var port = raw switch
        {
            bool => null,
            long l => l,
            int i => i,
            double d when d == Math.Floor(d) && Math.Abs(d) < 1e9 => (long)d,
            string s => PythonInt(s),
            _ => (long?)null,
        };
        if (port is not (>= 0 and <= 65535))
        {
            Problem(key, $"expected a TCP port (0-65535), not {Show(raw)}");
            return fallback ?? 0;
        }

        return (int)port;
    }

    /// <summary>A size in bytes (a non-negative integer).</summary>
    public long GetSize(string key, long fallback) => GetLong(key, fallback, 0);

    /// <summary>A number (an integer or a float, or a string of one), in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public double GetNumber(string key, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        var number = AsNumber(v);
        if (number is not { } n || double.IsNaN(n))
        {
            Problem(key, $"expected a number, not {Show(v)}");
            return fallback;
        }

        if (n < min || n > max)
        {
            Problem(key, max == double.MaxValue ? $"must be at least {Text(min)}, not {Text(n)}" : $"must be from {Text(min)} to {Text(max)}, not {Text(n)}");
            return fallback;
        }

        return n;
    }

    // As Python's float(): an int, a float, or a string of one.
    private static double? AsNumber(object v) => v switch
    {
        long l => l,
        int i => i,
        double d => d,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    /// <summary>A duration in seconds (a non-negative integer or float).</summary>
    public TimeSpan GetSeconds(string key, TimeSpan fallback)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        var seconds = AsNumber(v);
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
    /// <c>"False"</c> is true, as for Salt; such a string (false, no, off, 0, none, null) is recorded
    /// in <see cref="Warnings"/>.
    /// </summary>
    public bool GetBool(string key, bool fallback)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return fallback;
        }

        WarnIfFalseLooking(key, v, "true");
        return v is IEnumerable e and not string and not ICollection ? e.Cast<object?>().Any() : PyScalar.Truthy(v);
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

    /// <summary>A string Salt's <c>bool()</c> reads as true that looks false to a reader (<c>"False"</c>, <c>"no"</c>, <c>"off"</c>, <c>"0"</c>...).</summary>
    public static bool LooksFalseButIsTrue(object? v) =>
        v is string s && s.Trim().ToLowerInvariant() is "false" or "no" or "off" or "0" or "none" or "null" or "n";

    private void WarnIfFalseLooking(string key, object value, string reading)
    {
        var looksFalse = LooksFalseButIsTrue(value) || (reading == "on" && value is long or int or double && !PyScalar.Truthy(value));
        if (looksFalse)
        {
            warnings.Add(new ConfigError(
                KeyPath(key),
                $"{Show(value)} reads as {reading}, as salt-api reads it (Python's bool() of a non-empty string); write false without quotes to turn it off"));
        }
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

    /// <summary>A list option as Salt's master config reads it: a YAML list of scalars, or one string as one item; null when absent.</summary>
    public IReadOnlyList<string>? GetList(string key)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return null;
        }

        switch (v)
        {
            case string s:
                return [s];
            case IDictionary or IEnumerable<KeyValuePair<string, object?>>:
                break;
            case IEnumerable e:
                var items = new List<string>();
                foreach (var item in e)
                {
                    if (Scalar(item) is not { } text)
                    {
                        Problem(key, $"expected a list of strings, not an item {Show(item)}");
                        return [];
                    }

                    items.Add(text);
                }

                return items;
        }

        Problem(key, $"expected a list, not {Show(v)}");
        return [];
    }

    /// <summary>A nested map, or null when absent; anything but a map is a problem (then null).</summary>
    public IReadOnlyDictionary<string, object?>? GetMap(string key)
    {
        if (!Values.TryGetValue(key, out var v) || v is null)
        {
            return null;
        }

        if ((v as IReadOnlyDictionary<string, object?> ?? ToMap(v)) is { } map)
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

    /// <summary>The value as an error message shows it: short, and never a whole nested structure.</summary>
    public static string Show(object? v) => v switch
    {
        string s => "'" + (s.Length > 60 ? s[..60] + "..." : s) + "'",
        IDictionary or IEnumerable<KeyValuePair<string, object?>> => "a map",
        IEnumerable => "a list",
        _ => Scalar(v) ?? v?.GetType().Name ?? "None",
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

    private static string Text(double d) => d.ToString(CultureInfo.InvariantCulture);
}

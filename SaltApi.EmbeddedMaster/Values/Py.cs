using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SaltApi.EmbeddedMaster.Values;

/// <summary>Python's view of the plain value tree: truthiness, <c>str()</c>, <c>re.match</c>, <c>fnmatch</c>.</summary>
internal static class Py
{
    /// <summary>A fresh ordered map, the value model's map type.</summary>
    public static OrderedDictionary<string, object?> Map() => new(StringComparer.Ordinal);

    /// <summary>Builds a map from pairs, in order (sized for them and a key more, as <c>_stamp</c> is often added).</summary>
    public static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] pairs)
    {
        var m = new OrderedDictionary<string, object?>(pairs.Length + 1, StringComparer.Ordinal);
        foreach (var (k, v) in pairs)
        {
            m[k] = v;
        }

        return m;
    }

    /// <summary>A shallow copy of a map (sized for it and a key more).</summary>
    public static OrderedDictionary<string, object?> Copy(IEnumerable<KeyValuePair<string, object?>> source)
    {
        var m = source is IReadOnlyCollection<KeyValuePair<string, object?>> c ? new OrderedDictionary<string, object?>(c.Count + 1, StringComparer.Ordinal) : Map();
        foreach (var (k, v) in source)
        {
            m[k] = v;
        }

        return m;
    }

    /// <summary>The value of a key, or null.</summary>
    public static object? Get(this IReadOnlyDictionary<string, object?> map, string key) => map.TryGetValue(key, out var v) ? v : null;

    /// <summary>Python's <c>bool(value)</c>.</summary>
    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        ulong ul => ul != 0,
        double d => d != 0,
        string s => s.Length > 0,
        byte[] bytes => bytes.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    /// <summary>Python's <c>str(value)</c> of a plain value.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        _ => Repr(v),
    };

    /// <summary>Python's <c>repr(value)</c> of a plain value.</summary>
    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        WriteRepr(sb, v, 0);
        return sb.ToString();
    }

    private static void WriteRepr(StringBuilder sb, object? v, int depth)
    {
        if (depth > 64)
        {
            sb.Append("...");
            return;
        }

        switch (v)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case string s: sb.Append(QuoteRepr(s)); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case long or ulong or int: sb.Append(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
            case byte[] bytes: sb.Append("b'").Append(Encoding.Latin1.GetString(bytes)).Append('\''); break;
            case DateTime dt: sb.Append("datetime.datetime(").Append(dt.ToString("yyyy, M, d, H, m, s", CultureInfo.InvariantCulture)).Append(')'); break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                sb.Append('{');
                var first = true;
                foreach (var (k, val) in map)
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }

                    first = false;
                    sb.Append(QuoteRepr(k)).Append(": ");
                    WriteRepr(sb, val, depth + 1);
                }

                sb.Append('}');
                break;
            case IEnumerable list:
                sb.Append('[');
                var f = true;
                foreach (var item in list)
                {
                    if (!f)
                    {
                        sb.Append(", ");
                    }

                    f = false;
                    WriteRepr(sb, item, depth + 1);
                }

                sb.Append(']');
                break;
            default: sb.Append(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>Python's float repr: shortest round-trip text, always with a dot or exponent.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        var s = d.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E', StringComparison.Ordinal))
        {
            var parts = s.Split('E');
            var exp = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return parts[0] + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }

        return s.Contains('.', StringComparison.Ordinal) ? s : s + ".0";
    }

    private static string QuoteRepr(string s)
    {
        var quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append(quote).ToString();
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex?> RegexCache = new(StringComparer.Ordinal);

    /// <summary>A compiled Python-style regex (cached, bounded); null when the pattern is invalid.</summary>
    public static Regex? Compile(string pattern)
    {
        if (RegexCache.TryGetValue(pattern, out var cached))
        {
            return cached;
        }

        Regex? rx;
        try
        {
            rx = new Regex(TranslatePattern(pattern), RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(200));
        }
        catch (ArgumentException)
        {
            rx = null;
        }

        if (RegexCache.Count < 4096)
        {
            RegexCache[pattern] = rx;
        }

        return rx;
    }

    // Python spells named groups (?P<name>...) and backreferences (?P=name); .NET does not.
    private static string TranslatePattern(string pattern) =>
        pattern.Replace("(?P<", "(?<", StringComparison.Ordinal).Replace("(?P=", "\\k<", StringComparison.Ordinal);

    /// <summary>Python's <c>re.match</c>: anchored at the start only; an invalid pattern never matches.</summary>
    public static bool ReMatch(string pattern, string s)
    {
        // The pattern must compile on its own (so "a)(b" stays invalid) before it is anchored.
        if (Compile(pattern) is null || Compile(@"\A(?:" + pattern + ")") is not { } rx)
        {
            return false;
        }

        try
        {
            return rx.IsMatch(s);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>Python's <c>re.match(r"\A{pattern}\Z", s)</c> (a full match).</summary>
    public static bool ReFullMatch(string pattern, string s) => ReMatch(@"\A(?:" + pattern + @")\z", s);

    /// <summary>Python's <c>fnmatch.fnmatch</c> on POSIX (case-sensitive): <c>*</c>, <c>?</c>, <c>[seq]</c>, <c>[!seq]</c>.</summary>
    public static bool FnMatch(string name, string pattern)
    {
        if (pattern.IndexOfAny(['*', '?', '[']) < 0)
        {
            return string.Equals(name, pattern, StringComparison.Ordinal);
        }

        return GlobRegex(pattern)?.IsMatch(name) ?? false;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex?> GlobCache = new(StringComparer.Ordinal);

    private static Regex? GlobRegex(string pattern)
    {
        if (GlobCache.TryGetValue(pattern, out var cached))
        {
            return cached;
        }

        var sb = new StringBuilder(@"\A(?s:");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    var j = i + 1;
                    if (j < pattern.Length && pattern[j] == '!')
                    {
                        j++;
                    }

                    if (j < pattern.Length && pattern[j] == ']')
                    {
                        j++;
                    }

                    while (j < pattern.Length && pattern[j] != ']')
                    {
                        j++;
                    }

                    if (j >= pattern.Length)
                    {
                        sb.Append(@"\[");
                    }
                    else
                    {
                        var stuff = pattern[(i + 1)..j].Replace("\\", "\\\\", StringComparison.Ordinal);
                        i = j;
                        if (stuff.StartsWith('!'))
                        {
                            stuff = "^" + stuff[1..];
                        }
                        else if (stuff.StartsWith('^'))
                        {
                            stuff = "\\" + stuff;
                        }

                        sb.Append('[').Append(stuff).Append(']');
                    }

                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        sb.Append(@")\z");
        Regex? rx;
        try
        {
            rx = new Regex(sb.ToString(), RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(200));
        }
        catch (ArgumentException)
        {
            rx = null;
        }

        if (GlobCache.Count < 4096)
        {
            GlobCache[pattern] = rx;
        }

        return rx;
    }

    /// <summary>Salt's <c>expr_match</c>: equal, or fnmatch glob, or a full regex match.</summary>
    public static bool ExprMatch(string line, string expr) =>
        line == expr || FnMatch(expr, line) || ReFullMatch(line, expr);

    /// <summary>The value as a list (a single value becomes a one-item list).</summary>
    public static List<object?> AsList(object? v) => v switch
    {
        null => [],
        List<object?> l => l,
        string s => [s],
        IEnumerable<KeyValuePair<string, object?>> => [v],
        IEnumerable e => e.Cast<object?>().ToList(),
        _ => [v],
    };

    /// <summary>The map, when the value is one.</summary>
    public static OrderedDictionary<string, object?>? AsMap(object? v) => v switch
    {
        OrderedDictionary<string, object?> m => m,
        IEnumerable<KeyValuePair<string, object?>> e => Copy(e),
        _ => null,
    };

    /// <summary>Salt's <c>traverse_dict_and_list</c>: follows <paramref name="key"/> split at <paramref name="delimiter"/> through maps and list indexes.</summary>
    public static bool TryTraverse(object? data, string key, string delimiter, out object? value)
    {
        value = data;
        foreach (var part in key.Split(delimiter))
        {
            switch (value)
            {
                case OrderedDictionary<string, object?> m when m.TryGetValue(part, out var v):
                    value = v;
                    break;
                case List<object?> l when int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < l.Count:
                    value = l[i];
                    break;
                default:
                    value = null;
                    return false;
            }
        }

        return true;
    }
}

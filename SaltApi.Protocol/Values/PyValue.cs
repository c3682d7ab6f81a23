using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;
using SaltApi.PythonValues;

namespace SaltApi.Protocol.Values;

/// <summary>
/// Python's view of the plain value tree (null, bool, long/ulong/BigInteger, double, string, byte[], DateTime,
/// lists, string-keyed maps): <c>bool()</c>, <c>str()</c>, <c>repr()</c>, json's key text, <c>fnmatch</c> and
/// <c>re.match</c>. The one home of these rules: checked against a table of CPython's own results
/// (tests/SaltApi.Protocol.Tests/Values). Config values are read by SaltApi.PythonValues.ConfigBinder.
/// </summary>
public static class PyValue
{
    private const int MaxDepth = 64;
    private const int CacheLimit = 4096;
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>Python's <c>bool(value)</c>: so <c>"false"</c> and <c>"0"</c> are true, as in a lowstate read by Salt.</summary>
    public static bool Truthy(object? v) => PyScalar.Truthy(v);

    /// <summary>Python's <c>str(value)</c>: a string as is, a datetime in ISO form with a space, anything else its repr.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        DateTime dt => dt.ToString(dt.Ticks % TimeSpan.TicksPerSecond / 10 == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        _ => Repr(v),
    };

    /// <summary>Python's <c>repr(value)</c> (nesting past 64 levels is written <c>...</c>).</summary>
    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        WriteRepr(sb, v, 0);
        return sb.ToString();
    }

    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, exponent from 1e16 and below 1e-4, <c>inf</c>, <c>nan</c>.</summary>
    public static string FloatRepr(double d) => d switch
    {
        double.PositiveInfinity => "inf",
        double.NegativeInfinity => "-inf",
        _ when double.IsNaN(d) => "nan",
        _ => PyScalar.JsonFloat(d),
    };

    /// <summary>
    /// The text a non-string map key takes in our string-keyed model: json.dumps's (<c>None</c> → "null",
    /// <c>True</c> → "true", <c>1.5</c> → "1.5"), as Salt's answers reach clients as JSON. A list key (a msgpack
    /// array as key) is its items' texts joined by ", ".
    /// </summary>
    public static string KeyText(object? key) => key switch
    {
        string s => s,
        IEnumerable e and not byte[] => string.Join(", ", e.Cast<object?>().Select(KeyText)),
        _ => PyScalar.KeyText(key),
    };

    private static void WriteRepr(StringBuilder sb, object? v, int depth)
    {
        if (depth > MaxDepth)
        {
            sb.Append("...");
            return;
        }

        switch (v)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case string s: WriteStrRepr(sb, s); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case byte[] bytes: WriteBytesRepr(sb, bytes); break;
            case DateTime dt: WriteDateTimeRepr(sb, dt); break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                sb.Append('{');
                var first = true;
                foreach (var (k, val) in map)
                {
                    sb.Append(first ? "" : ", ");
                    first = false;
                    WriteStrRepr(sb, k);
                    sb.Append(": ");
                    WriteRepr(sb, val, depth + 1);
                }

                sb.Append('}');
                break;
            case IEnumerable list:
                sb.Append('[');
                var f = true;
                foreach (var item in list)
                {
                    sb.Append(f ? "" : ", ");
                    f = false;
                    WriteRepr(sb, item, depth + 1);
                }

                sb.Append(']');
                break;
            default: sb.Append(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
        }
    }

    // As CPython's unicode_repr: single quotes unless the text has ' and no ", and non-printable code points escaped.
    private static void WriteStrRepr(StringBuilder sb, string s)
    {
        var quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        sb.Append(quote);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '\\': sb.Append("\\\\"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
            }

            if (c == quote)
            {
                sb.Append('\\').Append(c);
                continue;
            }

            if (c is >= ' ' and < '\x7f')
            {
                sb.Append(c);
                continue;
            }

            int cp = c;
            var width = 1;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                cp = char.ConvertToUtf32(c, s[i + 1]);
                width = 2;
            }

            if (IsPrintable(cp))
            {
                sb.Append(s, i, width);
            }
            else
            {
                sb.Append(cp switch
                {
                    <= 0xff => "\\x" + cp.ToString("x2", CultureInfo.InvariantCulture),
                    <= 0xffff => "\\u" + cp.ToString("x4", CultureInfo.InvariantCulture),
                    _ => "\\U" + cp.ToString("x8", CultureInfo.InvariantCulture),
                });
            }

            i += width - 1;
        }

        sb.Append(quote);
    }

    // Python's str.isprintable for one code point: not Cc, Cf, Cs, Co, Cn, Zl, Zp, or Zs other than the space.
    private static bool IsPrintable(int cp)
    {
        if (cp is >= 0xd800 and <= 0xdfff)
        {
            return false;
        }

        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => false,
            UnicodeCategory.SpaceSeparator => cp == ' ',
            _ => true,
        };
    }

    // As CPython's bytes repr: b'...', printable ASCII as is, the rest \xhh.
    private static void WriteBytesRepr(StringBuilder sb, byte[] bytes)
    {
        var quote = bytes.Contains((byte)'\'') && !bytes.Contains((byte)'"') ? '"' : '\'';
        sb.Append('b').Append(quote);
        foreach (var b in bytes)
        {
            switch (b)
            {
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                default:
                    if (b == quote)
                    {
                        sb.Append('\\').Append(quote);
                    }
                    else if (b is >= 0x20 and < 0x7f)
                    {
                        sb.Append((char)b);
                    }
                    else
                    {
                        sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                    }

                    break;
            }
        }

        sb.Append(quote);
    }

    // datetime.datetime(Y, M, D, h, m[, s[, us]]): trailing zero seconds and microseconds are left out.
    private static void WriteDateTimeRepr(StringBuilder sb, DateTime dt)
    {
        var micro = (int)(dt.Ticks % TimeSpan.TicksPerSecond / 10);
        sb.Append(CultureInfo.InvariantCulture, $"datetime.datetime({dt.Year}, {dt.Month}, {dt.Day}, {dt.Hour}, {dt.Minute}");
        if (dt.Second != 0 || micro != 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {dt.Second}");
        }

        if (micro != 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {micro}");
        }

        sb.Append(')');
    }

    private static readonly ConcurrentDictionary<string, Regex?> RegexCache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Regex?> GlobCache = new(StringComparer.Ordinal);

    /// <summary>A compiled Python-style regex (cached, bounded, with a match timeout); null when the pattern is invalid.</summary>
    public static Regex? Compile(string pattern) => Cached(RegexCache, pattern, static p => TranslatePattern(p));

    // Python spells named groups (?P<name>...) and backreferences (?P=name); .NET does not.
    private static string TranslatePattern(string pattern) =>
        pattern.Replace("(?P<", "(?<", StringComparison.Ordinal).Replace("(?P=", "\\k<", StringComparison.Ordinal);

    /// <summary>Python's <c>re.match(pattern, s)</c>: anchored at the start only; an invalid pattern or a timeout never matches.</summary>
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

    /// <summary>Python's <c>re.match(r"\A{pattern}\Z", s)</c>: a full match.</summary>
    public static bool ReFullMatch(string pattern, string s) => Compile(pattern) is not null && ReMatch(@"\A(?:" + pattern + @")\z", s);

    /// <summary>Python's <c>fnmatch.fnmatchcase(name, pattern)</c> (fnmatch on POSIX): <c>*</c>, <c>?</c>, <c>[seq]</c>, <c>[!seq]</c>.</summary>
    public static bool FnMatch(string name, string pattern)
    {
        if (pattern.IndexOfAny(['*', '?', '[']) < 0)
        {
            return string.Equals(name, pattern, StringComparison.Ordinal);
        }

        try
        {
            return Cached(GlobCache, pattern, GlobToRegex)?.IsMatch(name) ?? false;
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>Salt's <c>salt.utils.stringutils.expr_match(line, expr)</c>: equal, <c>fnmatch(line, expr)</c>, or <c>expr</c> as a full regex over <c>line</c>.</summary>
    public static bool ExprMatch(string line, string expr) =>
        line == expr || FnMatch(line, expr) || ReFullMatch(expr, line);

    private static Regex? Cached(ConcurrentDictionary<string, Regex?> cache, string pattern, Func<string, string> translate)
    {
        if (cache.TryGetValue(pattern, out var cached))
        {
            return cached;
        }

        Regex? rx;
        try
        {
            rx = new Regex(translate(pattern), RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException)
        {
            rx = null;
        }

        if (cache.Count < CacheLimit)
        {
            cache[pattern] = rx;
        }

        return rx;
    }

    // As Python's fnmatch.translate: an unclosed [ is literal, [!...] negates, a leading ] is a member.
    private static string GlobToRegex(string pattern)
    {
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
                        break;
                    }

                    var stuff = pattern[(i + 1)..j].Replace("\\", "\\\\", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal);
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
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return sb.Append(@")\z").ToString();
    }
}

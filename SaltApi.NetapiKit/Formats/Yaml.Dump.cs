using System.Collections;
using System.Globalization;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Abstractions.Parsing;

namespace SaltApi.NetapiKit.Formats;

// PyYAML's safe_dump, as Salt writes YAML answers.
public static partial class Yaml
{
    /// <summary>PyYAML <c>safe_dump(data, default_flow_style=False)</c>: block style, keys sorted.</summary>
    public static string Dump(object? value)
    {
        var sb = new StringBuilder(256);
        if (IsScalar(value) || IsEmptyCollection(value))
        {
            sb.Append(Scalar(value));
            sb.Append('\n');
            if (IsScalar(value) && value is not null)
            {
                sb.Append("...\n");
            }

            return sb.ToString();
        }

        WriteBlock(sb, value, 0, 0);
        return sb.ToString();
    }

    private static bool IsScalar(object? v) => v is null or string or bool or byte[] or DateTime || v.GetType().IsPrimitive || v is decimal or System.Numerics.BigInteger;

    private static bool IsEmptyCollection(object? v) => v switch
    {
        IEnumerable<KeyValuePair<string, object?>> m => !m.Any(),
        IDictionary d => d.Count == 0,
        string => false,
        IEnumerable e => !e.GetEnumerator().MoveNext(),
        _ => false,
    };

    private static List<KeyValuePair<string, object?>> SortedEntries(object map)
    {
        var list = new List<KeyValuePair<string, object?>>();
        if (map is IEnumerable<KeyValuePair<string, object?>> typed)
        {
            list.AddRange(typed);
        }
        else if (map is IDictionary dict)
        {
            foreach (DictionaryEntry e in dict)
            {
                list.Add(new(SaltJson.KeyText(e.Key), e.Value));
            }
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return list;
    }

    private static bool IsMap(object? v) => v is IEnumerable<KeyValuePair<string, object?>> or IDictionary;

    // Writes a non-empty collection whose first line starts at the current position (column = indent).
    private static void WriteBlock(StringBuilder sb, object? value, int indent, int depth)
    {
        if (depth > 512)
        {
            throw new InvalidOperationException("value nested too deeply to serialize");
        }

        var pad = new string(' ', indent);
        var first = true;
        if (IsMap(value))
        {
            foreach (var (key, v) in SortedEntries(value!))
            {
                if (!first)
                {
                    sb.Append(pad);
                }

                first = false;
                sb.Append(Scalar(key)).Append(':');
                if (IsScalar(v) || IsEmptyCollection(v))
                {
                    sb.Append(' ').Append(Scalar(v)).Append('\n');
                }
                else if (IsMap(v))
                {
                    sb.Append('\n').Append(' ', indent + 2);
                    WriteBlock(sb, v, indent + 2, depth + 1);
                }
                else
                {
                    // PyYAML writes sequences inside mappings without extra indentation.
                    sb.Append('\n').Append(pad);
                    WriteBlock(sb, v, indent, depth + 1);
                }
            }

            return;
        }

        foreach (var item in (IEnumerable)value!)
        {
            if (!first)
            {
                sb.Append(pad);
            }

            first = false;
            sb.Append("- ");
            if (IsScalar(item) || IsEmptyCollection(item))
            {
                sb.Append(Scalar(item)).Append('\n');
            }
            else
            {
                WriteBlock(sb, item, indent + 2, depth + 1);
            }
        }
    }

    private static string Scalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        string s => Str(s),
        double d => Float(d),
        float f => Float(f),
        decimal m => Float((double)m),
        byte[] bytes => Str(Encoding.UTF8.GetString(bytes)),
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        IEnumerable<KeyValuePair<string, object?>> or IDictionary => "{}",
        IEnumerable => "[]",
        _ => System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Float(double d)
    {
        if (double.IsNaN(d))
        {
            return ".nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? ".inf" : "-.inf";
        }

        var r = SaltJson.FormatFloat(d);
        if (!r.Contains('.', StringComparison.Ordinal) && r.Contains('e', StringComparison.Ordinal))
        {
            var i = r.IndexOf('e', StringComparison.Ordinal);
            r = r[..i] + ".0" + r[i..];
        }

        return r;
    }

    private static string Str(string s)
    {
        if (CanBePlain(s))
        {
            return s;
        }

        if (s.Any(c => c is '\n' or '\r' or '\t' || char.IsControl(c)))
        {
            return DoubleQuoted(s);
        }

        return "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private static bool ResolvesToText(string s)
    {
        try
        {
            return ResolvePlain(s) is string;
        }
        catch (YamlLoadException)
        {
            // A string the resolver reads as a number (more digits than a body may carry, or a float PyYAML
            // cannot construct such as "._"): quoted, as PyYAML's representer would, since its resolver matches.
            return false;
        }
    }

    private static bool CanBePlain(string s)
    {
        if (s.Length == 0 || s != s.Trim() || !ResolvesToText(s) || YamlScalar.IsTimestamp(s))
        {
            return false;
        }

        var c0 = s[0];
        if ("#,[]{}&*!|>'\"%@`".Contains(c0, StringComparison.Ordinal))
        {
            return false;
        }

        if (c0 is '-' or '?' or ':' && (s.Length == 1 || s[1] == ' '))
        {
            return false;
        }

        if (s is "---" or "...")
        {
            return false;
        }

        if (s.Contains(": ", StringComparison.Ordinal) || s.Contains(" #", StringComparison.Ordinal) || s.EndsWith(':'))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (char.IsControl(c) || c == '\uFEFF')
            {
                return false;
            }
        }

        return true;
    }

    private static string DoubleQuoted(string s)
    {
        var sb = new StringBuilder(s.Length + 8).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\0': sb.Append("\\0"); break;
                default:
                    if (char.IsControl(c))
                    {
                        sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }
}

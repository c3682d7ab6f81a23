using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using SaltApi.Abstractions.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SaltApi.Plugins.RestCherrypyCompat.Formats;

/// <summary>A YAML document that could not be parsed.</summary>
internal sealed class YamlLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// YAML as Salt reads and writes it: PyYAML safe_load with YAML 1.1 scalar resolution
/// (yes/no/on/off booleans, 0x/0o/0b ints, underscores), and safe_dump with
/// <c>default_flow_style=False</c> (block style, keys sorted, indentless sequences in maps).
/// </summary>
internal static partial class Yaml
{
    private const int MaxNodes = 200_000;

    // The tags SafeLoader constructs; any other (!!python/..., !custom) is refused.
    private static readonly HashSet<string> SafeTags = new(
        new[] { "str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "merge", "value", "omap", "pairs", "set" }
            .Select(t => "tag:yaml.org,2002:" + t),
        StringComparer.Ordinal);

    /// <summary>Loads the first document into plain values; an empty document is null.</summary>
    public static object? Load(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new YamlLoadException(e.Message, e);
        }

        if (stream.Documents.Count == 0)
        {
            return null;
        }

        var budget = MaxNodes;
        return Convert(stream.Documents[0].RootNode, 0, ref budget);
    }

    private static object? Convert(YamlNode node, int depth, ref int budget)
    {
        if (depth > SaltJson.MaxDepth || --budget < 0)
        {
            throw new YamlLoadException("document nested too deeply or too large");
        }

        // As PyYAML's safe_load: a tag outside YAML's own (!!python/object..., !custom) has no constructor.
        var tag = node.Tag.IsEmpty ? null : node.Tag.Value;
        if (tag is not null && tag != "!" && !SafeTags.Contains(tag))
        {
            throw new YamlLoadException($"could not determine a constructor for the tag '{tag}'");
        }

        switch (node)
        {
            case YamlScalarNode scalar:
                return ResolveScalar(scalar);
            case YamlSequenceNode seq:
                var list = new List<object?>(seq.Children.Count);
                foreach (var child in seq.Children)
                {
                    list.Add(Convert(child, depth + 1, ref budget));
                }

                return list;
            case YamlMappingNode map:
                var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (k, v) in map.Children)
                {
                    var key = SaltJson.KeyText(Convert(k, depth + 1, ref budget));
                    dict[key] = Convert(v, depth + 1, ref budget);
                }

                return dict;
            default:
                throw new YamlLoadException("unsupported YAML node");
        }
    }

    private static object? ResolveScalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? "" : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" or "!!str")
        {
            return value;
        }

        if (scalar.Style != ScalarStyle.Plain && tag.Length == 0)
        {
            return value;
        }

        return ResolvePlain(value);
    }

    /// <summary>YAML 1.1 implicit resolution of a plain scalar (PyYAML's Resolver); dates stay text.</summary>
    public static object? ResolvePlain(string value)
    {
        if (value.Length == 0 || value is "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        switch (value)
        {
            case "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON":
                return true;
            case "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF":
                return false;
        }

        if (IntRegex().IsMatch(value) && TryParseInt(value, out var number))
        {
            return number;
        }

        if (FloatRegex().IsMatch(value))
        {
            return ParseFloat(value);
        }

        return value;
    }

    /// <summary>Whether a plain scalar would load as something other than a string.</summary>
    public static bool IsTimestamp(string value) => TimestampRegex().IsMatch(value);

    private static bool TryParseInt(string text, out object number)
    {
        number = 0L;
        var s = text.Replace("_", "", StringComparison.Ordinal);
        var negative = false;
        if (s.StartsWith('-') || s.StartsWith('+'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        System.Numerics.BigInteger big;
        if (s.StartsWith("0b", StringComparison.Ordinal))
        {
            big = 0;
            foreach (var c in s[2..])
            {
                big = (big * 2) + (c - '0');
            }
        }
        else if (s.StartsWith("0x", StringComparison.Ordinal))
        {
            big = System.Numerics.BigInteger.Parse("0" + s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        else if (s.Contains(':', StringComparison.Ordinal))
        {
            big = 0;
            foreach (var part in s.Split(':'))
            {
                big = (big * 60) + System.Numerics.BigInteger.Parse(part, CultureInfo.InvariantCulture);
            }
        }
        else if (s.Length > 1 && s[0] == '0')
        {
            big = 0;
            foreach (var c in s[1..])
            {
                big = (big * 8) + (c - '0');
            }
        }
        else
        {
            big = System.Numerics.BigInteger.Parse(s, CultureInfo.InvariantCulture);
        }

        if (negative)
        {
            big = -big;
        }

        if (big >= long.MinValue && big <= long.MaxValue)
        {
            number = (long)big;
        }
        else if (big >= 0 && big <= ulong.MaxValue)
        {
            number = (ulong)big;
        }
        else
        {
            number = big;
        }

        return true;
    }

    private static double ParseFloat(string text)
    {
        var s = text.Replace("_", "", StringComparison.Ordinal);
        var lower = s.ToLowerInvariant();
        if (lower.EndsWith(".inf", StringComparison.Ordinal))
        {
            return lower.StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
        }

        if (lower == ".nan")
        {
            return double.NaN;
        }

        if (s.Contains(':', StringComparison.Ordinal))
        {
            var negative = s.StartsWith('-');
            double total = 0;
            foreach (var part in s.TrimStart('-', '+').Split(':'))
            {
                total = (total * 60) + double.Parse(part, CultureInfo.InvariantCulture);
            }

            return negative ? -total : total;
        }

        return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex IntRegex();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex FloatRegex();

    [GeneratedRegex(@"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$")]
    private static partial Regex TimestampRegex();

    // ---------------------------------------------------------------- dump

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

    private static bool CanBePlain(string s)
    {
        if (s.Length == 0 || s != s.Trim() || ResolvePlain(s) is not string || IsTimestamp(s))
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

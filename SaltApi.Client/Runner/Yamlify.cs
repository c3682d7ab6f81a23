using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Parsing;

namespace SaltApi.Client.Runner;

/// <summary>
/// salt.utils.args.yamlify_arg for scalars (spec/03 §4.2): text that YAML 1.1 (PyYAML safe_load) reads as
/// null, a bool, an int or a float becomes that value, a quoted scalar loses its quotes, a trailing
/// <c># comment</c> is dropped when the rest is not text; everything else stays the original string.
/// Deliberate difference: flow maps and lists (<c>{...}</c>, <c>[...]</c>) stay strings (no YAML parser here).
/// </summary>
internal static partial class Yamlify
{
    private static readonly System.Buffers.SearchValues<char> Breaks = System.Buffers.SearchValues.Create("\t\r\n");

    private static readonly System.Buffers.SearchValues<char> DigitsUnderscore = System.Buffers.SearchValues.Create("0123456789_");

    public static object? Arg(string s)
    {
        if (string.IsNullOrWhiteSpace(s) || s is "---" or "..." || s.AsSpan().IndexOfAny(Breaks) >= 0)
        {
            return s;
        }

        // Only digits and underscores with at least one underscore (e.g. a jid with a pid) stays text.
        if (s.Contains('_', StringComparison.Ordinal) && s.AsSpan().IndexOfAnyExcept(DigitsUnderscore) < 0)
        {
            return s;
        }

        if (s == "None")
        {
            return null;
        }

        if (s.Contains('#', StringComparison.Ordinal))
        {
            // YAML drops "# ..." after whitespace; Salt keeps the load only when it is not text or null.
            var cut = CommentStart(s);
            if (cut < 0)
            {
                return s;
            }

            var loaded = Scalar(s[..cut]);
            return loaded is null or string ? s : loaded;
        }

        return Scalar(s);
    }

    private static int CommentStart(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '#' && (i == 0 || s[i - 1] is ' ' or '\t'))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>PyYAML's plain-scalar resolution of one line.</summary>
    private static object? Scalar(string s)
    {
        var t = s.Trim(' ');
        switch (t)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON":
                return true;
            case "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF":
                return false;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
                return double.PositiveInfinity;
            case "-.inf" or "-.Inf" or "-.INF":
                return double.NegativeInfinity;
            case ".nan" or ".NaN" or ".NAN":
                return double.NaN;
        }

        if (t.Length >= 2 && t[0] == '\'' && t[^1] == '\'' && !t[1..^1].Replace("''", "", StringComparison.Ordinal).Contains('\'', StringComparison.Ordinal))
        {
            return t[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        if (t.Length >= 2 && t[0] == '"' && t[^1] == '"' && DoubleQuoted(t[1..^1]) is { } dq)
        {
            return dq;
        }

        if (IntRegex().IsMatch(t))
        {
            // One digit cap in every base, counted before any big-number arithmetic; past it the call is
            // refused (Salt keeps a long decimal as text and builds any binary or hex int, however long).
            return YamlInt.TryParse(t, out var i)
                ? YamlInt.Narrow(i)
                : throw new SaltInvocationException($"Exceeds the limit ({InputLimits.MaxIntDigits} digits) for integer string conversion");
        }

        if (FloatRegex().IsMatch(t) && double.TryParse(t.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return d;
        }

        return s;
    }

    private static string? DoubleQuoted(string inner)
    {
        var sb = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (c == '"')
            {
                return null;
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (++i >= inner.Length)
            {
                return null;
            }

            switch (inner[i])
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '"': sb.Append('"'); break;
                case '/': sb.Append('/'); break;
                case ' ': sb.Append(' '); break;
                case 'x' when i + 2 < inner.Length && int.TryParse(inner.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var x):
                    sb.Append((char)x);
                    i += 2;
                    break;
                case 'u' when i + 4 < inner.Length && int.TryParse(inner.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var u):
                    sb.Append((char)u);
                    i += 4;
                    break;
                default:
                    return null;
            }
        }

        return sb.ToString();
    }

    // PyYAML's YAML 1.1 int forms: decimal, 0b binary, 0 octal, 0x hex (underscores allowed), sign optional.
    [GeneratedRegex(@"^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|0|[1-9][0-9_]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex IntRegex();

    // YAML 1.1 float as PyYAML resolves it (a dot is required; the exponent needs a sign).
    [GeneratedRegex(@"^[-+]?(([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?|\.[0-9_]+([eE][-+][0-9]+)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatRegex();
}

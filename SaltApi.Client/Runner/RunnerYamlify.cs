using System.Globalization;
using System.Text;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Parsing;

namespace SaltApi.Client.Runner;

/// <summary>
/// salt.utils.args.yamlify_arg for runner arguments (spec/03 §4.2): the shared rules (Abstractions' Yamlify)
/// over a one-line scalar loader: text that YAML 1.1 (PyYAML safe_load) reads as null, a bool, an int or a
/// float becomes that value, a quoted scalar loses its quotes, a trailing <c># comment</c> is dropped.
/// Deliberate difference: flow maps and lists (<c>{...}</c>, <c>[...]</c>) stay strings (no YAML parser here).
/// </summary>
internal static class RunnerYamlify
{
    public static object? Arg(string s) => Yamlify.Arg(s, Load);

    private static bool Load(string s, out object? value)
    {
        if (s.Contains('#', StringComparison.Ordinal))
        {
            // YAML drops "# ..." after whitespace; a '#' inside a word is text.
            var cut = CommentStart(s);
            value = cut < 0 ? s : Scalar(s[..cut]);
            return true;
        }

        value = Scalar(s);
        return true;
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
        if (t.Length >= 2 && t[0] == '\'' && t[^1] == '\'' && !t[1..^1].Replace("''", "", StringComparison.Ordinal).Contains('\'', StringComparison.Ordinal))
        {
            return t[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        if (t.Length >= 2 && t[0] == '"' && t[^1] == '"' && DoubleQuoted(t[1..^1]) is { } dq)
        {
            return dq;
        }

        switch (YamlScalar.Classify(t))
        {
            case YamlScalarKind.Null:
                return null;
            case YamlScalarKind.Bool:
                return YamlScalar.ToBool(t);
            case YamlScalarKind.Int:
                // One digit cap in every base, counted before any big-number arithmetic; past it the call is
                // refused (Salt keeps a long decimal as text and builds any binary or hex int, however long).
                return YamlInt.TryParse(t, out var i)
                    ? YamlInt.Narrow(i)
                    : throw new SaltInvocationException($"Exceeds the limit ({InputLimits.MaxIntDigits} digits) for integer string conversion");
            case YamlScalarKind.Float when YamlScalar.TryFloat(t, out var d):
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
}

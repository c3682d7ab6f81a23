using System.Globalization;
using System.Text.RegularExpressions;

namespace SaltApi.Abstractions.Parsing;

/// <summary>What a plain YAML 1.1 scalar resolves to (PyYAML's implicit resolvers).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "YAML's own tag names (!!int, !!float)")]
public enum YamlScalarKind
{
    /// <summary>Text (no resolver matched; timestamps are text too, as Salt's loader keeps them).</summary>
    Str,

    /// <summary><c>~</c>, <c>null</c>, <c>Null</c>, <c>NULL</c> or empty.</summary>
    Null,

    /// <summary><c>yes</c>/<c>no</c>, <c>true</c>/<c>false</c>, <c>on</c>/<c>off</c> in three casings.</summary>
    Bool,

    /// <summary>Decimal, <c>0b</c>, <c>0x</c>, leading-zero octal or base 60; build it with <see cref="YamlInt"/>.</summary>
    Int,

    /// <summary>A float (a dot is required, the exponent needs a sign), base 60, <c>.inf</c> or <c>.nan</c>.</summary>
    Float,
}

/// <summary>
/// PyYAML's YAML 1.1 scalar rules (resolver.py and constructor.py), the one copy shared by the config
/// loader, request bodies and yamlify_arg. Each caller builds ints its own way (<see cref="YamlInt"/>).
/// </summary>
public static partial class YamlScalar
{
    /// <summary>The kind a plain (unquoted, untagged) scalar resolves to.</summary>
    public static YamlScalarKind Classify(string plain)
    {
        if (plain.Length == 0 || plain is "~" or "null" or "Null" or "NULL")
        {
            return YamlScalarKind.Null;
        }

        if (IsBool(plain))
        {
            return YamlScalarKind.Bool;
        }

        if (IntRegex().IsMatch(plain))
        {
            return YamlScalarKind.Int;
        }

        return FloatRegex().IsMatch(plain) ? YamlScalarKind.Float : YamlScalarKind.Str;
    }

    /// <summary>Whether the text is one of YAML 1.1's bool words.</summary>
    public static bool IsBool(string text) => text is "yes" or "Yes" or "YES" or "no" or "No" or "NO"
        or "true" or "True" or "TRUE" or "false" or "False" or "FALSE" or "on" or "On" or "ON" or "off" or "Off" or "OFF";

    /// <summary>construct_yaml_bool: <c>yes</c>, <c>true</c> and <c>on</c> (any casing) are true.</summary>
    public static bool ToBool(string text) => text.ToLowerInvariant() is "yes" or "true" or "on";

    /// <summary>
    /// construct_yaml_float: underscores dropped, <c>.inf</c>, <c>.nan</c>, base 60. False where Python's
    /// <c>float()</c> raises on what the resolver let through (<c>._</c>, <c>.e+3</c>).
    /// </summary>
    public static bool TryFloat(string text, out double value)
    {
        var s = text.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        var sign = s.StartsWith('-') ? -1.0 : 1.0;
        if (s.Length > 0 && s[0] is '+' or '-')
        {
            s = s[1..];
        }

        if (s is ".inf" or ".nan")
        {
            value = s == ".nan" ? double.NaN : sign * double.PositiveInfinity;
            return true;
        }

        value = 0;
        foreach (var part in s.Split(':'))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            {
                return false;
            }

            value = (value * 60) + d;
        }

        value *= sign;
        return true;
    }

    /// <summary>Whether a plain scalar is a YAML 1.1 timestamp (which Salt's loaders keep as text).</summary>
    public static bool IsTimestamp(string value) => TimestampRegex().IsMatch(value);

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$", RegexOptions.CultureInvariant)]
    private static partial Regex IntRegex();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatRegex();

    [GeneratedRegex(@"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$", RegexOptions.CultureInvariant)]
    private static partial Regex TimestampRegex();
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace SaltApi.Client.Runner;

/// <summary>
/// salt.utils.args.yamlify_arg for the scalar cases (spec/03 §4.2): text that YAML 1.1 reads as null,
/// a bool, an int or a float becomes that value; everything else stays the original string.
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
            return s;
        }

        var t = s.Trim();
        switch (t)
        {
            case "~" or "null" or "Null" or "NULL":
                return s.StartsWith('!') ? s : null;
            case "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "y" or "Y":
                return t is "y" or "Y" ? s : true;
            case "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF" or "n" or "N":
                return t is "n" or "N" ? s : false;
        }

        if (IntRegex().IsMatch(t))
        {
            var clean = t.Replace("_", "", StringComparison.Ordinal);
            if (long.TryParse(clean, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            {
                return l;
            }

            if (ulong.TryParse(clean.TrimStart('+'), NumberStyles.None, CultureInfo.InvariantCulture, out var u))
            {
                return u;
            }

            return s;
        }

        if (FloatRegex().IsMatch(t) && double.TryParse(t.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return d;
        }

        return s;
    }

    [GeneratedRegex(@"^[-+]?(0|[1-9][0-9_]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex IntRegex();

    // YAML 1.1 float (PyYAML's resolver, without the sexagesimal and .inf/.nan forms).
    [GeneratedRegex(@"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatRegex();
}

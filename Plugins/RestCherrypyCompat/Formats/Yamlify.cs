using System.Collections;
using System.Text.RegularExpressions;

namespace SaltApi.Plugins.RestCherrypyCompat.Formats;

/// <summary>
/// Salt's <c>salt.utils.args.yamlify_arg</c>: turns a form-encoded string into the value it
/// spells in YAML when that is safe, else keeps the text (spec/03 §4.2).
/// </summary>
internal static partial class Yamlify
{
    /// <summary>Yamlifies one form value; non-strings pass through.</summary>
    public static object? Arg(object? arg)
    {
        if (arg is not string s)
        {
            return arg;
        }

        if (s.Trim().Length == 0 || s is "---" or "..." || UnderscoreDigits().IsMatch(s))
        {
            return s;
        }

        if (s.Contains('\t') || s.Contains('\r') || s.Contains('\n'))
        {
            return s;
        }

        if (s.Contains('#'))
        {
            var v = TryLoad(s, out var ok);
            return ok && v is not (string or null) ? Keep(s, v) : s;
        }

        if (s == "None")
        {
            return null;
        }

        var loaded = TryLoad(s, out var parsed);
        if (!parsed)
        {
            return s;
        }

        return Keep(s, loaded);
    }

    private static object? Keep(string original, object? loaded)
    {
        switch (loaded)
        {
            case IDictionary or IEnumerable<KeyValuePair<string, object?>>:
                return original.StartsWith('{') ? loaded : original;
            case string str:
                // '|' and '!' start block scalars and tags: the text is kept as written.
                return original.StartsWith('|') || original.StartsWith('!') ? original : str;
            case IList:
                return original.StartsWith('[') ? loaded : original;
            case null:
                return original.StartsWith('!') || original.StartsWith('|') ? original : null;
            case bool or long or ulong or double or System.Numerics.BigInteger:
                return loaded;
            default:
                return original;
        }
    }

    private static object? TryLoad(string s, out bool ok)
    {
        try
        {
            if (Yaml.IsTimestamp(s.Trim()))
            {
                ok = false;
                return null;
            }

            var v = Yaml.Load(s);
            ok = true;
            return v;
        }
        catch (YamlLoadException e) when (e is not YamlLimitException)
        {
            // As yamlify_arg: text that does not load stays text. Past a limit the whole request is refused
            // (Salt keeps the text after PyYAML's RecursionError; we never start that work).
            ok = false;
            return null;
        }
    }

    [GeneratedRegex(@"^[\d_]*_[\d_]*$")]
    private static partial Regex UnderscoreDigits();
}

using System.Collections;

namespace SaltApi.Abstractions.Parsing;

/// <summary>Loads one YAML document for <see cref="Yamlify"/>: false when the text does not load (it then stays text).</summary>
/// <param name="text">The argument text.</param>
/// <param name="value">The loaded value.</param>
public delegate bool YamlArgLoader(string text, out object? value);

/// <summary>
/// Salt's <c>salt.utils.args.yamlify_arg</c> (spec/03 §4.2): a string argument becomes the value it spells
/// in YAML when that is safe, else it stays the text. The rules are here once; the YAML loading is the
/// caller's (rest_cherrypy loads whole documents, the runner client scalars only).
/// </summary>
public static class Yamlify
{
    /// <summary>Yamlifies one argument; non-strings pass through.</summary>
    public static object? Arg(object? arg, YamlArgLoader load)
    {
        ArgumentNullException.ThrowIfNull(load);
        if (arg is not string s)
        {
            return arg;
        }

        if (s.Trim().Length == 0 || s is "---" or "..." || IsUnderscoredDigits(s) || s.AsSpan().IndexOfAny('\t', '\r', '\n') >= 0)
        {
            return s;
        }

        if (s.Contains('#', StringComparison.Ordinal))
        {
            // Salt keeps the load only when the comment left something that is not text or None.
            return load(s, out var v) && v is not (string or null) ? Keep(s, v) : s;
        }

        if (s == "None")
        {
            return null;
        }

        return load(s, out var loaded) ? Keep(s, loaded) : s;
    }

    // Only digits and underscores with at least one underscore (a jid with a pid) stays text.
    private static bool IsUnderscoredDigits(string s)
    {
        var underscore = false;
        foreach (var c in s)
        {
            if (c == '_')
            {
                underscore = true;
            }
            else if (!char.IsDigit(c))
            {
                return false;
            }
        }

        return underscore;
    }

    // What yamlify_arg keeps of the loaded value, by its type and the text's first character.
    private static object? Keep(string original, object? loaded) => loaded switch
    {
        IDictionary or IEnumerable<KeyValuePair<string, object?>> => original.StartsWith('{') ? loaded : original,

        // '|' and '!' start block scalars and tags: the text is kept as written.
        string str => original.StartsWith('|') || original.StartsWith('!') ? original : str,
        IList => original.StartsWith('[') ? loaded : original,
        null => original.StartsWith('!') || original.StartsWith('|') ? original : null,
        bool or long or ulong or double or System.Numerics.BigInteger => loaded,
        _ => original,
    };
}

using SaltApi.Abstractions.Json;

namespace SaltApi.Plugins.RestTornadoCompat.Http;

/// <summary>An answer format of saltnado's <c>ct_out_map</c>: its media type and its dumper.</summary>
internal sealed record Output(string ContentType, Func<object?, string> Dump)
{
    public static readonly Output Json = new("application/json", SaltJson.Serialize);

    public static readonly Output Yaml = new("application/x-yaml", NetapiKit.Formats.Yaml.Dump);

    // saltnado's ct_out_map, in its order.
    private static readonly Output[] Map = [Json, Yaml];

    /// <summary>
    /// As BaseSaltAPIHandler.prepare: each media range of <c>Accept</c> in the client's order, its
    /// parameters (q included) ignored, matched with fnmatch against the map; the first hit wins.
    /// A missing header is <c>*/*</c>; null when nothing matches (406).
    /// </summary>
    public static Output? Choose(string? accept)
    {
        foreach (var raw in (accept ?? "*/*").Split(','))
        {
            var semi = raw.IndexOf(';', StringComparison.Ordinal);
            var range = (semi < 0 ? raw : raw[..semi]).Trim().ToLowerInvariant();
            foreach (var output in Map)
            {
                if (Glob(output.ContentType, range))
                {
                    return output;
                }
            }
        }

        return null;
    }

    /// <summary>fnmatch's <c>*</c> and <c>?</c>, in linear time (no backtracking blow-up on many stars).</summary>
    internal static bool Glob(string text, string pattern)
    {
        int t = 0, p = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                t++;
                p++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}

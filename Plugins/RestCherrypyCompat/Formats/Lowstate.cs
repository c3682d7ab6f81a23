using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Formats;

/// <summary>rest_cherrypy's <c>lowdata_fmt</c> and the per-chunk checks of <c>exec_lowstate</c> (spec/05 §4.2).</summary>
internal static partial class Lowstate
{
    /// <summary>A non-empty map becomes a one-chunk lowstate (with a scalar <c>arg</c> wrapped); anything else as is.</summary>
    public static object? Shape(object? data)
    {
        if (data is OrderedDictionary<string, object?> map && map.Count > 0)
        {
            WrapArg(map);
            return new List<object?> { map };
        }

        return data;
    }

    /// <summary>The 400 message for a chunk that is not a map.</summary>
    public const string NotAMap = "Each lowstate chunk must be a map (a JSON object)";

    /// <summary>The lowstate as a list of chunks, or 400 <c>Lowstates must be a list</c>.</summary>
    public static List<object?> RequireList(object? lowstate) =>
        lowstate as List<object?> ?? throw new HttpError(400, "Lowstates must be a list");

    /// <summary>The lowstate as a list of maps, checked before any chunk runs: 400 otherwise.</summary>
    public static List<object?> RequireMaps(object? lowstate)
    {
        var chunks = RequireList(lowstate);
        foreach (var chunk in chunks)
        {
            if (chunk is not OrderedDictionary<string, object?>)
            {
                throw new HttpError(400, NotAMap);
            }
        }

        return chunks;
    }

    /// <summary>
    /// Prepares one chunk for the client: the session token (when given) replaces the body's,
    /// a non-hex token is 401 <c>Invalid token</c>, a forced client is set, a scalar arg wrapped.
    /// Deliberate difference: a chunk that is not a map is Python's AttributeError there (the generic
    /// 500); it is the client's fault, so a 400 here, as rest_wsgi answers.
    /// </summary>
    public static OrderedDictionary<string, object?> PrepareChunk(object? chunk, string? sessionToken, string? forceClient)
    {
        if (chunk is not OrderedDictionary<string, object?> map)
        {
            throw new HttpError(400, NotAMap);
        }

        var copy = new OrderedDictionary<string, object?>(map, StringComparer.Ordinal);
        if (sessionToken is not null)
        {
            copy["token"] = sessionToken;
        }

        if (copy.TryGetValue("token", out var token) && !IsHexToken(token))
        {
            throw new HttpError(401, "Invalid token");
        }

        if (forceClient is not null)
        {
            copy["client"] = forceClient;
        }

        WrapArg(copy);
        return copy;
    }

    private static void WrapArg(OrderedDictionary<string, object?> map)
    {
        if (map.TryGetValue("arg", out var arg) && arg is not IList)
        {
            map["arg"] = new List<object?> { arg };
        }
    }

    /// <summary>Python's <c>int(token, 16)</c> succeeds: optional sign, 0x prefix, single underscores, surrounding whitespace.</summary>
    public static bool IsHexToken(object? token) => token is string s && PythonHexInt().IsMatch(s.Trim());

    [GeneratedRegex(@"^[+-]?(0[xX]_?)?[0-9a-fA-F]+(_[0-9a-fA-F]+)*\z")]
    private static partial Regex PythonHexInt();

    /// <summary>Integer text for a value (used for ids in URLs).</summary>
    public static string Text(object? v) => v switch
    {
        null => "",
        string s => s,
        BigInteger b => b.ToString(CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };
}

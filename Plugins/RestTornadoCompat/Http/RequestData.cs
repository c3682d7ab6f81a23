using System.Text;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Json;
using SaltApi.Plugins.RestCherrypyCompat.Formats;

namespace SaltApi.Plugins.RestTornadoCompat.Http;

/// <summary>A body the client got wrong: answered with Tornado's page of this status.</summary>
internal sealed class BadBodyException(int status) : Exception($"{status}")
{
    public int Status { get; } = status;
}

/// <summary>BaseSaltAPIHandler.deserialize and _get_lowstate: the request body as data, then as lowstate.</summary>
internal static class RequestData
{
    /// <summary>
    /// The body by its Content-Type (saltnado's ct_in_map): JSON (also for <c>text/plain</c>), YAML, or the
    /// form arguments. Null when there is no body. Throws <see cref="BadBodyException"/> 406 for a type
    /// outside the map (or none), 400 for a document that does not parse.
    /// </summary>
    public static object? Deserialize(HttpRequest request, byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        var type = request.ContentType;
        var semi = type?.IndexOf(';', StringComparison.Ordinal) ?? -1;
        var media = (semi < 0 ? type : type![..semi])?.Trim().ToLowerInvariant();
        try
        {
            return media switch
            {
                "application/x-www-form-urlencoded" => Form(request.QueryString.Value, body),
                "application/json" or "text/plain" => SaltJson.Parse(body),
                // Deliberate difference: a YAML syntax error is PyYAML's YAMLError, not a ValueError, so
                // Salt answers it with a 500; the client's document is a 400 here, as bad JSON is.
                "application/x-yaml" or "text/yaml" => Yaml.Load(Encoding.UTF8.GetString(body)),
                _ => throw new BadBodyException(406),
            };
        }
        catch (Exception e) when (e is SaltJsonException or YamlLoadException)
        {
            throw new BadBodyException(400);
        }
    }

    /// <summary>
    /// As _get_lowstate: a map's <c>arg</c> made a list, and the data made a list of chunks. Null without a body.
    /// </summary>
    public static List<object?>? Lowstate(object? data)
    {
        switch (data)
        {
            case null:
                return null;
            case OrderedDictionary<string, object?> map:
                if (map.Count > 0 && map.TryGetValue("arg", out var arg) && arg is not List<object?>)
                {
                    map["arg"] = new List<object?> { arg };
                }

                return [map];
            case List<object?> list:
                return list;
            default:
                return [data];
        }
    }

    /// <summary>
    /// As _form_loader over Tornado's <c>request.arguments</c>: the query's arguments then the body's,
    /// each value stripped, a repeated key a list. Deliberate difference: an argument without a value is
    /// left out (Tornado keeps it as <c>""</c>, so the documented <c>fun=test.ping&amp;arg</c> would call
    /// <c>test.ping("")</c>).
    /// </summary>
    public static OrderedDictionary<string, object?> Form(string? query, byte[] body)
    {
        var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        Add(map, (query ?? "").TrimStart('?'));
        Add(map, Encoding.UTF8.GetString(body));
        return map;
    }

    private static void Add(OrderedDictionary<string, object?> map, string text)
    {
        foreach (var pair in text.Split('&', ';'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Unquote(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Unquote(pair[(eq + 1)..]).Trim();
            if (key.Length == 0 || value.Length == 0)
            {
                continue;
            }

            if (!map.TryGetValue(key, out var existing))
            {
                map[key] = value;
            }
            else if (existing is List<object?> list)
            {
                list.Add(value);
            }
            else
            {
                map[key] = new List<object?> { existing, value };
            }
        }
    }

    // Python's unquote_plus: '+' is a space, %XX decoded as UTF-8 with replacement.
    private static string Unquote(string s)
    {
        if (s.AsSpan().IndexOfAny('+', '%') < 0)
        {
            return s;
        }

        var bytes = new List<byte>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c == '%' && i + 2 < s.Length && Uri.IsHexDigit(s[i + 1]) && Uri.IsHexDigit(s[i + 2]))
            {
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}

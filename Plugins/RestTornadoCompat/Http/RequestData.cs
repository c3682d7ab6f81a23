using System.Text;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Json;
using SaltApi.NetapiKit.Formats;

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

        var media = FormData.MediaType(request.ContentType);
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
        FormData.AddPairs(map, (query ?? "").TrimStart('?'), stripValues: true);
        FormData.AddPairs(map, Encoding.UTF8.GetString(body), stripValues: true);
        return map;
    }
}

using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.NetapiKit.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Formats;

/// <summary>rest_cherrypy's <c>hypermedia_in</c>: request bodies by Content-Type (spec/05 §4.1).</summary>
internal static class BodyParser
{
    /// <summary>
    /// Parses a body. <paramref name="body"/> is null or empty when there is none: the result is then null.
    /// Throws <see cref="HttpError"/> 400 for bad JSON, 406 for unsupported types, 500 for bad YAML (as Salt).
    /// </summary>
    public static object? Parse(string? contentType, byte[]? body)
    {
        if (body is null || body.Length == 0)
        {
            return null;
        }

        var media = FormData.MediaType(contentType);
        switch (media)
        {
            case "application/json":
                try
                {
                    return SaltJson.Parse(body);
                }
                catch (SaltJsonException)
                {
                    throw new HttpError(400, "Invalid JSON document");
                }

            case "application/x-yaml" or "text/yaml":
                try
                {
                    return Yaml.Load(Utf8(body));
                }
                catch (YamlLoadException)
                {
                    // Deliberate difference: Salt catches only ValueError, so a YAML syntax error is CherryPy's
                    // 500 page there; a body the client got wrong is a 400, as for JSON.
                    throw new HttpError(400, "Invalid YAML document");
                }

            case "text/plain":
                try
                {
                    return SaltJson.Parse(body);
                }
                catch (SaltJsonException)
                {
                    return Utf8(body);
                }

            case "application/x-www-form-urlencoded":
                try
                {
                    return Form(Utf8(body));
                }
                catch (YamlLimitException)
                {
                    // Deliberate difference: an arg/kwarg value nested past the limits (or an int of more digits)
                    // is refused; Salt's yamlify_arg keeps it as text after PyYAML's RecursionError.
                    throw new HttpError(400, "Invalid YAML document");
                }

            default:
                throw new HttpError(406, "Content type not supported");
        }
    }

    private static string Utf8(byte[] body) => Encoding.UTF8.GetString(body);

    /// <summary>
    /// CherryPy's urlencoded processor then Salt's: pairs with empty values dropped, a repeated key
    /// becomes a list; <c>kwarg</c> yamlified; every <c>arg</c> yamlified and <c>arg</c> always a list.
    /// </summary>
    public static OrderedDictionary<string, object?> Form(string text)
    {
        var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        FormData.AddPairs(map, text, stripValues: false);
        if (map.TryGetValue("kwarg", out var kwarg))
        {
            map["kwarg"] = kwarg is List<object?> kl ? kl.Select(FormYamlify.Arg).ToList() : FormYamlify.Arg(kwarg);
        }

        if (map.TryGetValue("arg", out var arg))
        {
            map["arg"] = arg is List<object?> al ? al.Select(FormYamlify.Arg).ToList() : new List<object?> { FormYamlify.Arg(arg) };
        }

        return map;
    }
}

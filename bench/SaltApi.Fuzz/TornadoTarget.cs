using System.Text;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Json;
using BadBodyException = SaltApi.Plugins.RestTornadoCompat.Http.BadBodyException;
using Output = SaltApi.Plugins.RestTornadoCompat.Http.Output;
using RequestData = SaltApi.Plugins.RestTornadoCompat.Http.RequestData;

namespace SaltApi.Fuzz;

/// <summary>
/// rest_tornado's parsers of a request: the bytes as a body of every type saltnado reads (its own form
/// loader over the query and the body, JSON, YAML), shaped into a lowstate and answered as JSON and
/// YAML; and the bytes as an Accept header (fnmatch over the media types).
/// </summary>
public static class TornadoTarget
{
    private static readonly string[] Types = ["application/x-www-form-urlencoded", "application/json", "text/plain", "application/x-yaml"];

    public static void Run(byte[] data)
    {
        var text = Encoding.UTF8.GetString(data);
        foreach (var type in Types)
        {
            var request = new DefaultHttpContext().Request;
            request.ContentType = type;
            request.QueryString = QueryString.FromUriComponent("?" + text.Replace("#", "%23", StringComparison.Ordinal));
            try
            {
                var lowstate = RequestData.Lowstate(RequestData.Deserialize(request, data));
                _ = SaltJson.Serialize(lowstate);
                _ = Output.Yaml.Dump(lowstate);
            }
            catch (BadBodyException e) when (e.Status is 400 or 406)
            {
            }
        }

        _ = Output.Choose(text);
    }
}

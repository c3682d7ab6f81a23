using SaltApi.Abstractions.Hooks;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary><c>/hook[/...]</c> (<c>webhook_url</c>): rest_cherrypy's Webhook, a POST fired as an event.</summary>
internal sealed class HookEndpoint(CherrypyServices api)
{
    private static readonly string[] HookTagBase = ["salt", "netapi", "hook"];

    public async Task PostAsync(Call call)
    {
        var args = call.Args("tag");

        // Deliberate difference: a path whose (decoded) segments hold control characters (CR/LF from
        // %0d%0a or %250d%250a) would make a tag that forges lines in /events streams and logs; Salt
        // fires it. Refused before anything is read.
        if (args.Any(a => a.Any(char.IsControl)))
        {
            throw new HttpError(400, "Invalid hook path: control characters are not allowed in an event tag");
        }

        var data = await call.ReadDataAsync();
        if (data is OrderedDictionary<string, object?> map && map.Count > 0)
        {
            data = ((List<object?>)Lowstate.Shape(map)!)[0];
        }

        if (data is null || (data is OrderedDictionary<string, object?> { Count: 0 }))
        {
            data = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        }

        // As rest_cherrypy Webhook.POST: {body, post, headers} on salt/netapi/hook/<path>, every header kept
        // but this API's own credentials (X-Auth-Token, the session_id cookie), and Remote-Addr the client's
        // address as CherryPy sets it (HookHeaders).
        var headers = HookHeaders.Of(call.Ctx);

        var tag = string.Join('/', HookTagBase.Concat(args));
        var ok = await api.Client.FireEventAsync(tag, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["body"] = call.RawBody ?? "",
            ["post"] = data,
            ["headers"] = headers,
        }, call.Aborted);
        await call.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["success"] = ok });
    }
}

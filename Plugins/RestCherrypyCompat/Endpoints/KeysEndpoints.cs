using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;
using SaltApi.Plugins.RestCherrypyCompat.Keys;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary><c>/keys[/mid]</c>: rest_cherrypy's Keys.</summary>
internal sealed class KeysEndpoints(CherrypyServices api)
{
    /// <summary>GET: <c>key.list_all</c>, or <c>key.finger</c> of one minion.</summary>
    public async Task GetAsync(Call call)
    {
        var mid = call.Arg("mid");
        var low = mid is not null
            ? new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["client"] = "wheel", ["fun"] = "key.finger", ["match"] = mid }
            : new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["client"] = "wheel", ["fun"] = "key.list_all" };
        var result = await api.ExecAsync(call, new List<object?> { low }, call.Session?.Token, null);
        var ret = result.Count > 0 ? Get(Get(result[0], "data"), "return") : null;
        await call.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["return"] = ret ?? new OrderedDictionary<string, object?>(),
        });
    }

    /// <summary>POST: <c>key.gen_accept</c>, answered with the tar of the key pair.</summary>
    public async Task PostAsync(Call call)
    {
        // As Salt's Keys.POST: no output negotiation (the answer is a tarball); errors are HTML pages.
        // Deliberate difference: Salt turns every failure there, bad credentials included, into a 500 page.
        var lowstate = Lowstate.RequireList(await call.ReadLowstateAsync());
        if (lowstate.Count == 0 || lowstate[0] is not OrderedDictionary<string, object?> first)
        {
            throw new HttpError(400, "A key request needs \"mid\" and credentials");
        }

        first["client"] = "wheel";
        first["fun"] = "key.gen_accept";
        if (first.Remove("mid", out var mid))
        {
            first["id_"] = mid;
        }

        // Checked before the master accepts a key: an id Salt's valid_id refuses, or one that could not
        // be put in the Content-Disposition header, is a 400 with nothing done.
        var id = MinionId.Valid(first.GetValueOrDefault("id_") ?? throw new HttpError(400, "A key request needs \"mid\""))
            ?? throw new HttpError(400, "Invalid minion id: \"mid\" must be a plain name (no path separators, control characters, \".\" or \"..\")");
        first["id_"] = id;
        var results = await api.ExecAsync(call, new List<object?> { first }, null, null);
        var keys = results.Count > 0 ? Get(Get(results[0], "data"), "return") : null;
        var tar = KeyTarball.Build(Lowstate.Text(Get(keys, "pub")), Lowstate.Text(Get(keys, "priv")));
        var h = call.Response.Headers;
        h.ContentDisposition = MinionId.ContentDisposition(id);
        h.CacheControl = "no-cache";
        await call.WriteAsync(200, "application/x-tar", tar);
    }

    private static object? Get(object? map, string key) =>
        (map as IEnumerable<KeyValuePair<string, object?>>)?.FirstOrDefault(kv => kv.Key == key).Value;
}

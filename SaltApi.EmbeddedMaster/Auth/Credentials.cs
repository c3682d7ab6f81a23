using SaltApi.EmbeddedMaster.Values;

namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>
/// Takes credentials out of a load before it goes anywhere but the auth check: the bus (salt/job/error) and
/// the job cache. Deliberate difference: Salt fires and caches the whole load, eauth password, token and root
/// key included, so anyone reading the bus or the cache could replay them.
/// </summary>
internal static class Credentials
{
    /// <summary>The fields that are secrets wherever they appear in a load or its <c>kwargs</c>.</summary>
    private static readonly string[] Secrets = ["password", "token"];

    /// <summary>
    /// A copy of the load without <c>password</c>/<c>token</c> (top level and in <c>kwargs</c>/<c>kwarg</c>) and
    /// with an empty root <c>key</c> (the field stays, as our client sends it, so the shape is Salt's).
    /// </summary>
    public static OrderedDictionary<string, object?> Scrub(OrderedDictionary<string, object?> load)
    {
        var clean = Py.Copy(load);
        if (clean.ContainsKey("key"))
        {
            clean["key"] = "";
        }

        foreach (var field in Secrets)
        {
            clean.Remove(field);
        }

        foreach (var nested in (string[])["kwargs", "kwarg"])
        {
            if (Py.AsMap(clean.Get(nested)) is { } map && Secrets.Any(map.ContainsKey))
            {
                var inner = Py.Copy(map);
                foreach (var field in Secrets)
                {
                    inner.Remove(field);
                }

                clean[nested] = inner;
            }
        }

        return clean;
    }
}

using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Client;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>
/// rest_cherrypy's <c>api_acl</c> (salt_api_acl_tool), read from the <c>rest_wsgi</c> section, for each chunk.
/// Ours: Salt's rest_wsgi has no such option, so with it a user limited to some addresses on rest_cherrypy
/// could still use rest_wsgi from anywhere.
/// </summary>
internal static class ChunkAcl
{
    /// <summary>
    /// The chunk's user (its token's, or its eauth username) may call from this address. A token the
    /// master does not know is let through: the master refuses it.
    /// </summary>
    public static async Task<bool> AllowsAsync(ApiAcl acl, IReadOnlyDictionary<string, object?> chunk, HttpContext http, INetapiClient client, CancellationToken ct)
    {
        var ip = ClientAddress.Of(http);
        if (chunk.GetValueOrDefault("token") is string token)
        {
            var known = await client.GetTokenAsync(token, ct).ConfigureAwait(false);
            return known is null || acl.Allows(known.Name, ip);
        }

        return acl.Allows(chunk.GetValueOrDefault("username") as string, ip);
    }
}

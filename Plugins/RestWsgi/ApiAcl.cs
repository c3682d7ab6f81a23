using System.Collections;
using System.Globalization;
using System.Net;
using SaltApi.Abstractions.Client;

namespace SaltApi.Plugins.RestWsgi;

/// <summary>
/// rest_cherrypy's <c>api_acl</c> (salt_api_acl_tool), read from the <c>rest_wsgi</c> section: user (or
/// <c>*</c>) → client addresses (or <c>*</c>). Ours: Salt's rest_wsgi has no such option, so with it a
/// user limited to some addresses on rest_cherrypy could still use rest_wsgi from anywhere.
/// </summary>
internal sealed class ApiAcl(IReadOnlyDictionary<string, IReadOnlyList<string>> users)
{
    /// <summary>The section's <c>api_acl.users</c>, or null when there is none.</summary>
    public static ApiAcl? From(IReadOnlyDictionary<string, object?> section)
    {
        if (Map(section.GetValueOrDefault("api_acl")) is not { } acl || Map(acl.GetValueOrDefault("users")) is not { } users)
        {
            return null;
        }

        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (user, ips) in users)
        {
            result[user] = ips switch
            {
                null => [],
                string s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                IEnumerable e => e.Cast<object?>().Where(x => x is not null).Select(x => Convert.ToString(x, CultureInfo.InvariantCulture)!).ToList(),
                var v => [Convert.ToString(v, CultureInfo.InvariantCulture)!],
            };
        }

        return new ApiAcl(result);
    }

    /// <summary>As salt_api_acl_tool: the user's own entry, else the <c>*</c> entry; an address or <c>*</c>.</summary>
    public bool Allows(string? username, string ip)
    {
        if (username is not null && users.TryGetValue(username, out var ips))
        {
            return ips.Contains(ip) || ips.Contains("*");
        }

        return users.TryGetValue("*", out var any) && (any.Contains(ip) || any.Contains("*"));
    }

    /// <summary>
    /// The chunk's user (its token's, or its eauth username) may call from this address. A token the
    /// master does not know is let through: the master refuses it.
    /// </summary>
    public async Task<bool> AllowsChunkAsync(IReadOnlyDictionary<string, object?> chunk, IPAddress? remote, INetapiClient client, CancellationToken ct)
    {
        var ip = remote is null ? "" : (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString();
        if (chunk.GetValueOrDefault("token") is string token)
        {
            var known = await client.GetTokenAsync(token, ct).ConfigureAwait(false);
            return known is null || Allows(known.Name, ip);
        }

        return Allows(chunk.GetValueOrDefault("username") as string, ip);
    }

    private static Dictionary<string, object?>? Map(object? v) => v is IEnumerable<KeyValuePair<string, object?>> typed
        ? typed.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal)
        : null;
}

using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Modules;

namespace SaltApi.NetapiKit.Access;

/// <summary>
/// rest_cherrypy's <c>authorized_ips</c> (salt_ip_verify_tool), for every module that reads it from its own
/// section: with addresses listed, a request from any other address is refused (rest_cherrypy: 403 "Bad IP").
/// </summary>
public static class AuthorizedIps
{
    /// <summary>The section's <c>authorized_ips</c> (a list, or one comma-separated string), each address in the form <see cref="ClientAddress.Of"/> gives; empty when absent.</summary>
    public static IReadOnlyList<string> Read(ModuleSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return section.GetStringList("authorized_ips").Select(ClientAddress.Canonical).ToList();
    }

    /// <summary>As salt_ip_verify_tool: no list lets every address in; otherwise the client's address must be listed.</summary>
    public static bool Allows(IReadOnlyList<string> authorizedIps, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(authorizedIps);
        return authorizedIps.Count == 0 || authorizedIps.Contains(ClientAddress.Of(context), StringComparer.OrdinalIgnoreCase);
    }
}

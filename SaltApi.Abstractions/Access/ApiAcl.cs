using SaltApi.Abstractions.Modules;

namespace SaltApi.Abstractions.Access;

/// <summary>
/// rest_cherrypy's <c>api_acl</c> (salt_api_acl_tool), for every module that reads it from its own section:
/// <c>api_acl: {users: {user or '*': [address or '*', ...]}}</c>. A user's own entry decides, else the
/// <c>*</c> entry; with neither, the user is refused.
/// </summary>
public sealed class ApiAcl
{
    private readonly Dictionary<string, IReadOnlyList<string>> users;

    private ApiAcl(Dictionary<string, IReadOnlyList<string>> users) => this.users = users;

    /// <summary>The section's <c>api_acl.users</c>, or null when there is none; a wrong entry is recorded as a problem of the section.</summary>
    public static ApiAcl? Read(ModuleSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (ModuleSection.ToMap(section.Values.GetValueOrDefault("api_acl")) is not { } acl || ModuleSection.ToMap(acl.GetValueOrDefault("users")) is not { } entries)
        {
            return null;
        }

        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (user, ips) in entries)
        {
            if (ModuleSection.ToStringList(ips) is { } list)
            {
                result[user] = list;
            }
            else
            {
                section.Problem($"api_acl.users.{user}", "expected an address or a list of addresses");
            }
        }

        return new ApiAcl(result);
    }

    /// <summary>As salt_api_acl_tool: the user's own entry, else the <c>*</c> entry, lists the address or <c>*</c>.</summary>
    public bool Allows(string? username, string ip)
    {
        if (username is not null && users.TryGetValue(username, out var ips))
        {
            return ips.Contains(ip) || ips.Contains("*");
        }

        return users.TryGetValue("*", out var any) && (any.Contains(ip) || any.Contains("*"));
    }
}

using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Tokens;
using SaltApi.PythonValues;

namespace SaltApi.NetapiKit.Access;

/// <summary>
/// rest_cherrypy's <c>api_acl</c> (salt_api_acl_tool), for every module that reads it from its own section:
/// <c>api_acl: {users: {user or '*': [address or '*', ...]}}</c>. A user's own entry decides, else the
/// <c>*</c> entry; with neither, the user is refused.
/// </summary>
public sealed class ApiAcl
{
    private readonly Dictionary<string, IReadOnlyList<string>> users;

    private ApiAcl(Dictionary<string, IReadOnlyList<string>> users) => this.users = users;

    /// <summary>
    /// The section's <c>api_acl</c>, or null when there is none, read as salt_api_acl_tool reads it: an absent
    /// or empty <c>api_acl</c> checks nothing; one without <c>users</c> (or with none) refuses every user, as Salt
    /// does (that is recorded as a warning of the section). Anything but a map where a map is meant, and an entry
    /// that is not an address or a list of addresses, is a problem of the section.
    /// </summary>
    public static ApiAcl? Read(ModuleSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var acl = section.Binder.Section("api_acl");
        if (acl.Values.Count == 0)
        {
            return null;
        }

        var entries = acl.Section("users");
        if (entries.Values.Count == 0)
        {
            section.Binder.Warn("api_acl", "lists no users: every user is refused, as Salt's salt_api_acl_tool refuses them");
        }

        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (user, ips) in entries.Values)
        {
            if (ConfigBinder.ToStringList(ips) is { } list)
            {
                result[user] = list.Select(ClientAddress.Canonical).ToList();
            }
            else
            {
                entries.Problem(user, $"expected an address or a list of addresses, not {ConfigBinder.Show(ips)}");
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

    /// <summary>The user may call from the request's client address (<see cref="ClientAddress.Of"/>).</summary>
    public bool Allows(string? username, HttpContext context) => Allows(username, ClientAddress.Of(context));

    /// <summary>
    /// The user of a lowstate chunk may call from the request's address: its token's user (looked up by the
    /// module's <paramref name="tokens"/>), else its eauth <c>username</c>. A token the master does not know is let
    /// through: the master refuses it.
    /// </summary>
    public async Task<bool> AllowsChunkAsync(IReadOnlyDictionary<string, object?> chunk, HttpContext context, TokenCheck tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        ArgumentNullException.ThrowIfNull(tokens);
        if (chunk.GetValueOrDefault("token") is string token)
        {
            return await tokens.ValidateAsync(token, cancellationToken).ConfigureAwait(false) is not { } found || Allows(found.Name, context);
        }

        return Allows(chunk.GetValueOrDefault("username") as string, context);
    }
}

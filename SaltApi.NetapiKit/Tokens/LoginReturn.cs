using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;

namespace SaltApi.NetapiKit.Tokens;

/// <summary>The answer to a login, as rest_cherrypy's Login.POST and saltnado's SaltAuthHandler.post write it.</summary>
public static class LoginReturn
{
    /// <summary>
    /// <c>{"return": [{token, expire, start, user, eauth, perms}]}</c>; perms is <c>{}</c> when the token has none
    /// or they cannot be computed (logged at debug).
    /// </summary>
    public static OrderedDictionary<string, object?> Of(INetapiClient client, SaltToken token, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(token);
        IReadOnlyList<object?>? perms = null;
        try
        {
            perms = client.Permissions(token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "permissions of a token could not be computed");
        }

        var entry = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["token"] = token.Token,
            ["expire"] = token.Expire,
            ["start"] = token.Start,
            ["user"] = token.Name,
            ["eauth"] = token.Eauth,
            ["perms"] = perms is { Count: > 0 } ? perms : new OrderedDictionary<string, object?>(StringComparer.Ordinal),
        };
        return new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["return"] = new List<object?> { entry } };
    }
}

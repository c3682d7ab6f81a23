using SaltApi.Abstractions.Client;
using SaltApi.Client.Netapi;

namespace SaltApi.Client.Auth;

/// <summary>The master's <c>mk_token</c> and <c>get_token</c> (spec/01 §5.1–5.2), as salt.auth.Resolver sends them.</summary>
internal sealed class TokenClient(MasterCalls master)
{
    public async Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken ct)
    {
        var load = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["username"] = username,
            ["password"] = password,
            ["eauth"] = eauth,
            ["cmd"] = "mk_token",
        };
        return ToToken(await master.CallAsync(load, ct).ConfigureAwait(false));
    }

    public async Task<SaltToken?> GetTokenAsync(string token, CancellationToken ct) =>
        ToToken(await GetTokenDataAsync(token, ct).ConfigureAwait(false));

    /// <summary>The master's whole get_token answer (name, eauth, groups, auth_list ...), or null when refused.</summary>
    public async Task<OrderedDictionary<string, object?>?> GetTokenDataAsync(string token, CancellationToken ct)
    {
        var load = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["token"] = token,
            ["cmd"] = "get_token",
        };
        var reply = await master.CallAsync(load, ct).ConfigureAwait(false);
        return ToToken(reply) is null ? null : (OrderedDictionary<string, object?>)reply!;
    }

    /// <summary>A token map, or null for Salt's refusals (<c>""</c>, <c>{}</c>, <c>false</c>).</summary>
    internal static SaltToken? ToToken(object? reply)
    {
        if (reply is not OrderedDictionary<string, object?> map
            || map.GetValueOrDefault("token") is not string token
            || token.Length == 0)
        {
            return null;
        }

        var groups = map.GetValueOrDefault("groups") is List<object?> g ? g.Select(Lowstate.PyStr).ToList() : null;
        return new SaltToken(
            token,
            Lowstate.PyStr(map.GetValueOrDefault("name")),
            Lowstate.PyStr(map.GetValueOrDefault("eauth")),
            Number(map.GetValueOrDefault("start")),
            Number(map.GetValueOrDefault("expire")),
            groups);
    }

    private static double Number(object? v) => v switch
    {
        double d => d,
        long l => l,
        ulong u => u,
        _ => 0,
    };
}

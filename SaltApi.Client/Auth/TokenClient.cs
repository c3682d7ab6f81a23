using System.Collections.Concurrent;
using SaltApi.Abstractions.Client;
using SaltApi.Client.Master;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Auth;

/// <summary>The master's <c>mk_token</c> and <c>get_token</c> (spec/01 §5.1–5.2), as salt.auth.Resolver sends them.</summary>
internal sealed class TokenClient(MasterCalls master)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<SaltToken?>>> lookups = new(StringComparer.Ordinal);

    public Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken ct) =>
        MakeTokenAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["username"] = username,
            ["password"] = password,
            ["eauth"] = eauth,
        }, ct);

    /// <summary>
    /// As Resolver.mk_token: the caller's credentials map in its own order, then <c>cmd</c>. Every field
    /// goes to the master (<c>token_expire</c>, extra fields of an eauth backend) but <c>key</c> and
    /// <c>auth_list</c>, which are never forwarded (spec/01 §7).
    /// </summary>
    public async Task<SaltToken?> MakeTokenAsync(IReadOnlyDictionary<string, object?> credentials, CancellationToken ct)
    {
        var load = new OrderedDictionary<string, object?>(credentials.Count + 1, StringComparer.Ordinal);
        foreach (var (k, v) in credentials)
        {
            if (k is not ("key" or "auth_list"))
            {
                load[k] = k == "token_expire" ? Seconds(v) : v;
            }
        }

        load["cmd"] = "mk_token";
        return ToToken(await master.CallAsync(load, ct).ConfigureAwait(false));
    }

    // Deliberate difference: a form login sends token_expire as text, which Salt's master adds to a float
    // and fails on; a number in text is sent as the number.
    private static object? Seconds(object? v) => v switch
    {
        string s when long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var l) => l,
        string s when double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => d,
        _ => v,
    };

    /// <summary>
    /// get_token. Lookups of one token that overlap share one call to the master: when the modules' short
    /// caches lapse, every stream and request on a token asks at once (1,000 <c>/events</c> streams on one token
    /// made 1,000 calls in a burst). The shared call is bounded by the request timeout, not by one caller's
    /// cancellation; each caller stops waiting on its own.
    /// </summary>
    public Task<SaltToken?> GetTokenAsync(string token, CancellationToken ct)
    {
        var lookup = new Lazy<Task<SaltToken?>>(async () => ToToken(await GetTokenDataAsync(token, CancellationToken.None).ConfigureAwait(false)));
        var shared = lookups.GetOrAdd(token, lookup);
        if (ReferenceEquals(shared, lookup))
        {
            _ = lookup.Value.ContinueWith(_ => lookups.TryRemove(new KeyValuePair<string, Lazy<Task<SaltToken?>>>(token, lookup)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return shared.Value.WaitAsync(ct);
    }

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

        var groups = map.GetValueOrDefault("groups") is List<object?> g ? g.Select(PyValue.Str).ToList() : null;
        var authList = map.GetValueOrDefault("auth_list") as List<object?>;
        return new SaltToken(
            token,
            PyValue.Str(map.GetValueOrDefault("name")),
            PyValue.Str(map.GetValueOrDefault("eauth")),
            Number(map.GetValueOrDefault("start")),
            Number(map.GetValueOrDefault("expire")),
            groups)
        {
            AuthList = authList,
        };
    }

    private static double Number(object? v) => v switch
    {
        double d => d,
        long l => l,
        ulong u => u,
        _ => 0,
    };
}

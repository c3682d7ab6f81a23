using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>The outcome of Salt's <c>check_authentication</c>.</summary>
internal sealed record AuthCheck(List<object?> AuthList, string Username, OrderedDictionary<string, object?>? Error);

/// <summary>
/// Salt's <c>salt.auth.LoadAuth</c> on the master: eauth (timed, padded failures), tokens, and the
/// user's ACL (<c>get_auth_list</c> / <c>fill_auth_list</c>, spec/03 §7).
/// </summary>
internal sealed class LoadAuth(
    IReadOnlyDictionary<string, object?> externalAuth,
    EauthModules modules,
    TokenStore tokens,
    FailureDelay delay,
    IReadOnlyDictionary<string, object?> masterConfig,
    ILogger log)
{
    private readonly bool permissiveAcl = PyValue.Truthy(masterConfig.Get("permissive_acl"));
    private readonly bool keepAclInToken = PyValue.Truthy(masterConfig.Get("keep_acl_in_token"));

    /// <summary>The token store.</summary>
    public TokenStore Tokens => tokens;

    /// <summary>Salt's <c>_prep_auth_info</c>: token, else eauth, else user (root key).</summary>
    public static (string AuthType, string ErrName, string[] Sensitive) PrepAuthInfo(IReadOnlyDictionary<string, object?> load) =>
        load.ContainsKey("token") ? ("token", "TokenAuthenticationError", ["token"])
        : load.ContainsKey("eauth") ? ("eauth", "EauthAuthenticationError", ["username", "password"])
        : ("user", "UserAuthenticationError", []);

    /// <summary>Salt's <c>authenticate_eauth</c> (via <c>time_auth</c>): false when eauth is missing or not configured (at once), or the module says no (padded).</summary>
    public async Task<bool> AuthenticateEauthAsync(IReadOnlyDictionary<string, object?> load)
    {
        if (load.Get("eauth") is not string eauth || !externalAuth.ContainsKey(eauth))
        {
            return false;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var ok = false;
        var backend = modules.Get(eauth);
        if (backend is not null && load.Get("username") is string user)
        {
            var password = load.Get("password") is string p ? p : PyValue.Str(load.Get("password"));
            try
            {
                ok = backend.MayBlock ? await Task.Run(() => backend.Authenticate(user, password)) : backend.Authenticate(user, password);
            }
            catch (Exception e)
            {
                // As Salt's __auth_call: an exception in the module is a failed authentication.
                log.LogWarning("eauth {Eauth}: the module raised {Error}", eauth, e.GetType().Name);
                ok = false;
            }
        }

        if (!ok)
        {
            await delay.PadAsync(started);
        }

        return ok;
    }

    /// <summary>Salt's <c>get_groups</c>: the module's groups for the user, when it has any.</summary>
    public IReadOnlyList<string>? Groups(IReadOnlyDictionary<string, object?> load) =>
        load.Get("eauth") is string eauth && load.Get("username") is string user ? modules.Get(eauth)?.Groups(user) : null;

    /// <summary>Salt's <c>authenticate_token</c>: the token map, or null (unknown, expired, or its eauth no longer configured).</summary>
    public OrderedDictionary<string, object?>? AuthenticateToken(IReadOnlyDictionary<string, object?> load)
    {
        if (load.Get("token") is not string tok)
        {
            // Salt joins the value into a path: a non-string token raises (the caller turns that into the exception reply).
            throw new InvalidOperationException("token is not a string");
        }

        var token = tokens.Get(tok);
        if (token is null || token.Get("eauth") is not string e || !externalAuth.ContainsKey(e))
        {
            log.LogWarning("Authentication failure of type \"token\" occurred.");
            return null;
        }

        return token;
    }

    /// <summary>Salt's <c>check_authentication</c> for token and eauth (user auth is handled by the caller).</summary>
    public async Task<AuthCheck> CheckAuthenticationAsync(IReadOnlyDictionary<string, object?> load, string authType)
    {
        var username = load.Get("username") is string u ? u : load.ContainsKey("username") ? PyValue.Str(load.Get("username")) : "UNKNOWN";
        if (authType == "token")
        {
            var token = AuthenticateToken(load);
            if (token is null)
            {
                return new([], username, Py.Map(("name", "TokenAuthenticationError"), ("message", "Authentication failure of type \"token\" occurred.")));
            }

            username = PyValue.Str(token.Get("name"));
            return new(GetAuthList(load, token) ?? [], username, null);
        }

        if (authType == "eauth")
        {
            if (!await AuthenticateEauthAsync(load))
            {
                return new([], username, Py.Map(("name", "EauthAuthenticationError"), ("message", $"Authentication failure of type \"eauth\" occurred for user {username}.")));
            }

            return new(GetAuthList(load, null) ?? [], username, null);
        }

        return new([], username, Py.Map(("name", "UserAuthenticationError"), ("message", "Authentication failure of type \"user\" occurred")));
    }

    /// <summary>Salt's <c>get_auth_list</c>: the token's stored ACL, else external_auth walked for the user.</summary>
    public List<object?>? GetAuthList(IReadOnlyDictionary<string, object?> load, OrderedDictionary<string, object?>? token)
    {
        if (token is not null && keepAclInToken && token.Get("auth_list") is List<object?> stored)
        {
            return stored;
        }

        var eauth = token is not null ? token.Get("eauth") as string : load.Get("eauth") as string;
        if (eauth is null || !externalAuth.TryGetValue(eauth, out var config))
        {
            log.LogWarning("Authorization failure occurred.");
            return null;
        }

        string name;
        IReadOnlyList<string> groups;
        if (token is not null)
        {
            name = PyValue.Str(token.Get("name"));
            groups = Py.AsList(token.Get("groups")).Select(PyValue.Str).ToList();
        }
        else
        {
            name = load.Get("username") is string n ? n : "";
            groups = Groups(load) ?? [];
        }

        return FillAuthList(Py.AsMap(config) ?? Py.Map(), name, groups, permissiveAcl);
    }

    /// <summary>Salt's <c>fill_auth_list</c>.</summary>
    public static List<object?> FillAuthList(OrderedDictionary<string, object?> provider, string name, IReadOnlyList<string> groups, bool permissive)
    {
        var list = new List<object?>();
        var nameMatched = false;
        foreach (var (match, value) in provider)
        {
            if (match.StartsWith('^'))
            {
                continue; // module options (file eauth's ^filename, ...) are not users
            }

            if (match == "*" && !permissive)
            {
                continue;
            }

            if (match.EndsWith('%'))
            {
                if (groups.Contains(match.TrimEnd('%')))
                {
                    list.AddRange(Py.AsList(value));
                }
            }
            else if (PyValue.ExprMatch(name, match)) // the key as the pattern (Salt's fill_auth_list passes them the other way round)
            {
                nameMatched = true;
                list.AddRange(Py.AsList(value));
            }
        }

        if (!permissive && !nameMatched && provider.TryGetValue("*", out var star))
        {
            list.AddRange(Py.AsList(star));
        }

        return list;
    }

    /// <summary>Salt's <c>mk_token</c>: null when authentication fails.</summary>
    public async Task<OrderedDictionary<string, object?>?> MakeTokenAsync(OrderedDictionary<string, object?> load, double defaultExpire)
    {
        if (!await AuthenticateEauthAsync(load))
        {
            return null;
        }

        var expire = defaultExpire;
        if (load.Get("token_expire") is { } custom && AllowCustomExpire(load))
        {
            expire = custom switch
            {
                long l => l,
                double d => d,
                _ => defaultExpire,
            };
        }

        var start = TokenStore.Now();
        var tdata = Py.Map(
            ("start", start),
            ("expire", TokenStore.Now() + expire),
            ("name", load.Get("username") as string ?? ""),
            ("eauth", load.Get("eauth")));
        if (keepAclInToken)
        {
            // Deliberate difference: Salt stores the module's acl() result (None for most modules), which then
            // denies everything; we store the ACL computed from external_auth.
            tdata["auth_list"] = GetAuthList(load, null);
        }

        var groups = Groups(load);
        if (groups is { Count: > 0 })
        {
            tdata["groups"] = groups.Cast<object?>().ToList();
        }

        return tokens.Make(tdata);
    }

    private bool AllowCustomExpire(IReadOnlyDictionary<string, object?> load)
    {
        var over = masterConfig.Get("token_expire_user_override");
        if (over is bool b)
        {
            return b;
        }

        if (Py.AsMap(over) is { } map && load.Get("eauth") is string eauth && load.Get("username") is string user)
        {
            return Py.AsList(map.Get(eauth)).Select(PyValue.Str).Contains(user);
        }

        return false;
    }
}

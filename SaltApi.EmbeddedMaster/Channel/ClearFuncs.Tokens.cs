using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Auth;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Channel;

internal sealed partial class ClearFuncs
{
    // ---------------------------------------------------------------- mk_token / get_token

    private async Task<object?> MkTokenAsync(OrderedDictionary<string, object?> load)
    {
        var token = await ctx.LoadAuth.MakeTokenAsync(load, ctx.Config.TokenExpire);
        if (token is null)
        {
            ctx.Log.LogWarning("Authentication failure of type \"eauth\" occurred.");
            return "";
        }

        return token;
    }

    private object? GetToken(OrderedDictionary<string, object?> load)
    {
        if (!load.TryGetValue("token", out var tok))
        {
            return false;
        }

        if (tok is not string s)
        {
            throw new InvalidOperationException("token is not a string");
        }

        return (object?)ctx.LoadAuth.Tokens.Get(s) ?? Py.Map();
    }

    // ---------------------------------------------------------------- user (root key) auth

    /// <summary>Salt's <c>authenticate_key</c>: true, the (non-root) user name, or false.</summary>
    private object AuthenticateKey(OrderedDictionary<string, object?> load)
    {
        var authKey = load.Get("key");
        load.Remove("key");
        if (authKey is not string key)
        {
            return false;
        }

        var optsUser = ctx.Opts.Get("user") as string ?? "root";
        if (load.TryGetValue("user", out var u))
        {
            var user = PyValue.Str(u);
            if (user.StartsWith("sudo_", StringComparison.Ordinal))
            {
                return ctx.RootKeys.Values.Any(k => EauthModules.SecretEquals(k, key));
            }

            if (user == Environment.UserName || user == optsUser || user == "root")
            {
                return ctx.RootKeys.TryGetValue(optsUser, out var k) ? EauthModules.SecretEquals(k, key) : throw new KeyNotFoundException(optsUser);
            }

            if (ctx.RootKeys.TryGetValue(user, out var uk))
            {
                return EauthModules.SecretEquals(uk, key) ? user : false;
            }

            return false;
        }

        return ctx.RootKeys.TryGetValue(Environment.UserName, out var rk) && EauthModules.SecretEquals(rk, key);
    }

    private AuthCheck UserAuth(OrderedDictionary<string, object?> load)
    {
        var username = load.Get("username") is string n ? n : "UNKNOWN";
        var ret = AuthenticateKey(load);
        var authList = new List<object?>();
        if (ret is string user)
        {
            // A local non-root user: limited by publisher_acl.
            foreach (var (k, v) in Py.AsMap(ctx.Opts.Get("publisher_acl")) ?? Py.Map())
            {
                if (PyValue.ExprMatch(user, k))
                {
                    authList.AddRange(Py.AsList(v));
                }
            }
        }

        return ret is false || (ret is string && authList.Count == 0)
            ? new([], username, Py.Map(("name", "UserAuthenticationError"), ("message", "Authentication failure of type \"user\" occurred")))
            : new(authList, username, null);
    }
}

using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Config;
using SaltApi.Client.Netapi;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Auth;

/// <summary>
/// The gate in front of a publish of a list-valued <c>fun</c> (a compound command). Deliberate difference:
/// Salt 3006's <c>CkMinions.auth_check</c> accepts the whole list as soon as ONE of its functions is allowed
/// (at once when one is <c>saltutil.find_job</c>), so a user limited to <c>test.*</c> could run
/// <c>["test.ping", "cmd.run"]</c>. Here every function of the list must be allowed for the user, decided
/// from the same <c>external_auth</c> the master reads and the user the token (or the lowstate) names;
/// where the gate cannot decide, it refuses the list with the master's authorization error. A single
/// function is left to the master, as before.
/// </summary>
internal sealed class ListFunGate(ClientOptions options, TokenClient tokens)
{
    /// <summary>The master's text for a refused publish (AuthorizationError, 401).</summary>
    public const string Refused = "Authorization error occurred.";

    /// <summary>
    /// eauth modules whose ACL is external_auth alone: no <c>acl</c> or <c>process_acl</c> function that
    /// would replace or rewrite the list the master computes (rest, ldap, ... have one: cannot decide).
    /// </summary>
    private static readonly HashSet<string> PlainAclEauth = new(StringComparer.Ordinal) { "pam", "file", "auto", "sharedsecret" };


    /// <summary>Refuses a list-valued fun unless every function in it is allowed; anything else passes.</summary>
    public async Task CheckAsync(IReadOnlyDictionary<string, object?> low, CancellationToken ct)
    {
        if (low.GetValueOrDefault("fun") is string or null || low["fun"] is not IEnumerable<object?> funs)
        {
            return;
        }

        var list = funs.ToList();
        var authList = await AuthListAsync(low, ct).ConfigureAwait(false);
        if (authList is null || list.Count == 0)
        {
            throw new SaltAuthorizationException(Refused);
        }

        var tgt = low.GetValueOrDefault("tgt");
        var tgtType = low.GetValueOrDefault("tgt_type") as string ?? "glob";
        foreach (var fun in list)
        {
            // saltutil.find_job is the master's whitelist for itself; it never lets the rest through.
            if (fun is not string name || (name != "saltutil.find_job" && !Allowed(authList, name, tgt, tgtType)))
            {
                throw new SaltAuthorizationException(Refused);
            }
        }
    }

    /// <summary>
    /// As LoadAuth.get_auth_list (3006): the token's own auth_list when it has one and no groups; otherwise
    /// fill_auth_list over external_auth[eauth] with the token's (or the lowstate's) name and groups.
    /// Null when it cannot be known here.
    /// </summary>
    private async Task<List<object?>?> AuthListAsync(IReadOnlyDictionary<string, object?> low, CancellationToken ct)
    {
        string name;
        string eauth;
        List<string>? groups;
        if (low.GetValueOrDefault("token") is string token)
        {
            var tdata = await tokens.GetTokenDataAsync(token, ct).ConfigureAwait(false)
                ?? throw new SaltAuthenticationException("Authentication error occurred.", "AuthenticationError");
            if (tdata.TryGetValue("auth_list", out var own) && !tdata.ContainsKey("groups"))
            {
                return own as List<object?>;
            }

            name = PyValue.Str(tdata.GetValueOrDefault("name"));
            eauth = PyValue.Str(tdata.GetValueOrDefault("eauth"));
            groups = tdata.GetValueOrDefault("groups") is List<object?> g ? g.Select(PyValue.Str).ToList() : [];
        }
        else if (low.GetValueOrDefault("eauth") is string e && low.GetValueOrDefault("username") is string u)
        {
            (name, eauth, groups) = (u, e, null); // the eauth module's groups are only known to the master
        }
        else
        {
            return null;
        }

        if (!PlainAclEauth.Contains(eauth) || options.Master.ExternalAuth.GetValueOrDefault(eauth) is not IReadOnlyDictionary<string, object?> provider)
        {
            return null;
        }

        return FillAuthList(provider, name, groups, options.PermissiveAcl);
    }

    /// <summary>
    /// LoadAuth.get_auth_list for a token the master gave (made or looked up): its own auth_list when it has one and
    /// no groups, else fill_auth_list over external_auth[eauth]. Null when it cannot be known here.
    /// </summary>
    internal List<object?>? AuthListOf(SaltToken token)
    {
        if (token.AuthList is { } own && token.Groups is null)
        {
            return [.. own];
        }

        return PlainAclEauth.Contains(token.Eauth) && options.Master.ExternalAuth.GetValueOrDefault(token.Eauth) is IReadOnlyDictionary<string, object?> provider
            ? FillAuthList(provider, token.Name, token.Groups?.ToList() ?? [], options.PermissiveAcl)
            : null;
    }

    /// <summary>CkMinions.fill_auth_list; null when a group entry exists and the user's groups are unknown.</summary>
    internal static List<object?>? FillAuthList(IReadOnlyDictionary<string, object?> provider, string name, List<string>? groups, bool permissive)
    {
        var authList = new List<object?>();
        var nameMatched = false;
        foreach (var (match, entries) in provider)
        {
            if (match.StartsWith('^') || (match == "*" && !permissive))
            {
                continue; // ^filename, ^filetype ...: the eauth module's options
            }

            if (match.EndsWith('%'))
            {
                if (groups is null)
                {
                    return null;
                }

                if (groups.Contains(match.TrimEnd('%'), StringComparer.Ordinal) && !Extend(authList, entries))
                {
                    return null;
                }
            }
            else if (PyValue.ExprMatch(match, name))
            {
                nameMatched = true;
                if (!Extend(authList, entries))
                {
                    return null;
                }
            }
        }

        if (!permissive && !nameMatched && provider.TryGetValue("*", out var star) && !Extend(authList, star))
        {
            return null;
        }

        return authList;
    }

    private static bool Extend(List<object?> authList, object? entries)
    {
        if (entries is not List<object?> list)
        {
            return false;
        }

        authList.AddRange(list);
        return true;
    }

    /// <summary>
    /// One function against the auth list, as auth_check: a string entry is a function regex for every
    /// minion; a <c>{target: [regex]}</c> entry counts only when the target is surely inside it. Entries
    /// with argument conditions are not counted (narrower than the master, never wider).
    /// </summary>
    internal static bool Allowed(List<object?> authList, string fun, object? tgt, string tgtType)
    {
        foreach (var entry in authList)
        {
            if (entry is string regex)
            {
                if (PyValue.ReMatch(regex, fun))
                {
                    return true;
                }
            }
            else if (entry is IReadOnlyDictionary<string, object?> { Count: 1 } map)
            {
                var (valid, conds) = map.First();
                if (TargetInside(valid, tgt, tgtType) && (conds is List<object?> l ? l : [conds]).Any(c => c is string r && PyValue.ReMatch(r, fun)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// validate_tgt where it can be known without the minion list: the same expression, or minion ids
    /// (a glob without wildcards, a list) that a plain glob entry matches. Anything else: not inside.
    /// </summary>
    private static bool TargetInside(string valid, object? tgt, string tgtType)
    {
        if (tgt is string same && same == valid && tgtType is "glob" or "compound")
        {
            return true;
        }

        if (valid.Length == 0 || valid.Any(c => char.IsWhiteSpace(c) || c is '@' or '(' or ')'))
        {
            return false;
        }

        IEnumerable<object?> ids = tgtType switch
        {
            "glob" when tgt is string id && id.IndexOfAny(['*', '?', '[']) < 0 => [id],
            "list" when tgt is string csv => csv.Split(','),
            "list" when tgt is List<object?> list => list,
            _ => [],
        };
        var any = false;
        foreach (var id in ids)
        {
            if (id is not string s || s.Length == 0 || !PyValue.FnMatch(s, valid))
            {
                return false;
            }

            any = true;
        }

        return any;
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Config;
using SaltApi.Client.Lowstate;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Auth;

/// <summary>
/// The gate in front of a publish of a list-valued <c>fun</c> (a compound command). Deliberate difference:
/// Salt 3006's <c>CkMinions.auth_check</c> accepts the whole list as soon as ONE of its functions is allowed
/// (at once when one is <c>saltutil.find_job</c>), so a user limited to <c>test.*</c> could run
/// <c>["test.ping", "cmd.run"]</c>. Here every function of the list must be allowed, decided from the same
/// <c>external_auth</c> the master reads, the user and groups the token (or the lowstate) names, and auth_check's
/// own rules (target entries, argument conditions). A list with a function that no entry could allow is refused
/// with the master's authorization error. Where the daemon cannot decide (an eauth module that computes the ACL
/// itself, groups or targets only the master knows), the list goes to the master, which decides as Salt does
/// (<c>saltapi_client.list_fun_undecided: refuse</c> refuses it instead). A single function is the master's decision.
/// </summary>
internal sealed class ListFunGate(ClientOptions options, TokenClient tokens, ILogger logger)
{
    /// <summary>The master's text for a refused publish (AuthorizationError, 401).</summary>
    public const string Refused = "Authorization error occurred.";

    /// <summary>
    /// Salt 3006's eauth modules without an <c>acl</c> function (the ACL is external_auth alone). rest and django
    /// compute their own; a module not named here (a custom one) may, so it is not decided.
    /// </summary>
    private static readonly HashSet<string> NoAclEauth = new(StringComparer.Ordinal)
    {
        "pam", "file", "auto", "sharedsecret", "ldap", "mysql", "keystone", "pki", "yubico",
    };

    /// <summary>The (eauth, reason) pairs of undecided lists already logged.</summary>
    private readonly ConcurrentDictionary<(string Eauth, string Why), byte> warned = new();

    /// <summary>What can be decided of one function of the list.</summary>
    internal enum Verdict
    {
        /// <summary>An entry allows it for this target.</summary>
        Allowed,

        /// <summary>No entry could allow it, for any target.</summary>
        Refused,

        /// <summary>Only the master can tell.</summary>
        Undecided,
    }

    /// <summary>
    /// What is known here of a user's auth list: the entries, the entries of groups whose membership is known only
    /// to the master, or (<paramref name="Unknown"/>) why nothing of it can be known.
    /// </summary>
    internal sealed record KnownAuthList(string Eauth, List<object?> Entries, List<object?> GroupEntries, string? Unknown);

    /// <summary>Refuses a list-valued fun unless every function in it is allowed, or left to the master; anything else passes.</summary>
    public async Task CheckAsync(IReadOnlyDictionary<string, object?> low, CancellationToken ct)
    {
        if (low.GetValueOrDefault("fun") is string or null || low["fun"] is not IEnumerable<object?> funs)
        {
            return;
        }

        var list = funs.ToList();
        var known = await AuthListAsync(low, ct).ConfigureAwait(false);
        if (known is null || list.Count == 0)
        {
            throw new SaltAuthorizationException(Refused);
        }

        // The arguments as the master's auth_check reads them: the publish's arg (condition_input), one list per function.
        var args = ClientLowstate.ConditionInput(ClientLowstate.ArgList(low.GetValueOrDefault("arg")), low.GetValueOrDefault("kwarg"));
        var tgtType = low.GetValueOrDefault("tgt_type") as string ?? "glob";
        var (verdict, why) = Decide(known, list, args, low.GetValueOrDefault("tgt"), tgtType, whitelistFindJob: true);
        if (verdict == Verdict.Refused)
        {
            throw new SaltAuthorizationException(Refused);
        }

        if (verdict == Verdict.Undecided)
        {
            var refuse = options.ListFunUndecided == "refuse";
            if (ShouldWarn(known.Eauth, why!))
            {
                if (refuse)
                {
                    logger.LogWarning("A list-valued fun (compound command) for eauth {Eauth} cannot be checked function by function here ({Why}): refused, as saltapi_client.list_fun_undecided: refuse says ('master' leaves it to the master, which allows the whole list when one function is allowed)", known.Eauth, why);
                }
                else
                {
                    logger.LogWarning("A list-valued fun (compound command) for eauth {Eauth} cannot be checked function by function here ({Why}): the master decides, and Salt's master allows the whole list when one function is allowed; saltapi_client.list_fun_undecided: refuse refuses such lists", known.Eauth, why);
                }
            }

            if (refuse)
            {
                throw new SaltAuthorizationException(Refused);
            }
        }
    }

    // Once per (eauth, reason); the eauth is the client's word, so the set is bounded.
    private bool ShouldWarn(string eauth, string why) => warned.Count < 256 && warned.TryAdd((eauth, why), 0);

    /// <summary>
    /// The ssh client decides its auth_check itself (salt-api's _authorize_ssh), with no master behind it to leave an
    /// undecided function to: refused, logged once per (eauth, reason).
    /// </summary>
    internal void LogSshUndecided(string eauth, string why)
    {
        if (ShouldWarn("ssh:" + eauth, why))
        {
            logger.LogWarning("An ssh call for eauth {Eauth} cannot be authorized here ({Why}): refused (salt-api authorizes ssh calls itself, no master decides them)", eauth, why);
        }
    }

    /// <summary>
    /// As LoadAuth.get_auth_list (3006), for the publish's load: a token's name, eauth and groups (a token load has no
    /// <c>eauth</c>, so no eauth module's acl or process_acl applies), or the lowstate's eauth credentials (the module's
    /// acl, groups and process_acl do). Null when the master has no auth list to give (no credentials, an eauth not in
    /// external_auth): it refuses.
    /// </summary>
    private async Task<KnownAuthList?> AuthListAsync(IReadOnlyDictionary<string, object?> low, CancellationToken ct)
    {
        var loadEauth = low.GetValueOrDefault("eauth") as string;
        if (low.GetValueOrDefault("token") is string token)
        {
            var tdata = await tokens.GetTokenDataAsync(token, ct).ConfigureAwait(false)
                ?? throw new SaltAuthenticationException("Authentication error occurred.", "AuthenticationError");
            return Known(
                PyValue.Str(tdata.GetValueOrDefault("name")),
                PyValue.Str(tdata.GetValueOrDefault("eauth")),
                tdata.GetValueOrDefault("groups") is List<object?> g ? g.Select(PyValue.Str).ToList() : [],
                tdata.GetValueOrDefault("auth_list") as List<object?>,
                loadEauth);
        }

        if (loadEauth is not null && low.GetValueOrDefault("username") is string user)
        {
            return Known(user, loadEauth, GroupsOf(loadEauth, user), null, loadEauth);
        }

        return null;
    }

    /// <summary>The auth list of a token the master gave (made or looked up), for the ssh client's own auth_check.</summary>
    internal KnownAuthList? AuthListOf(SaltToken token, string? loadEauth) =>
        Known(token.Name, token.Eauth, token.Groups?.ToList() ?? [], token.AuthList?.ToList(), loadEauth);

    /// <summary>get_auth_list: <paramref name="groups"/> null when only the master can know them.</summary>
    private KnownAuthList? Known(string name, string eauth, List<string>? groups, List<object?>? tokenAuthList, string? loadEauth)
    {
        if (tokenAuthList is not null && options.KeepAclInToken)
        {
            return new KnownAuthList(eauth, tokenAuthList, [], null);
        }

        // __get_acl: only for a load that names an eauth (credentials): the module's acl replaces external_auth.
        if (loadEauth is not null)
        {
            var aclModule = options.EauthAclModule.Length > 0 ? options.EauthAclModule : loadEauth;
            if (!NoAclEauth.Contains(aclModule))
            {
                return new KnownAuthList(eauth, [], [], $"eauth module {aclModule} may compute the ACL itself (acl)");
            }
        }

        if (options.Master.ExternalAuth.GetValueOrDefault(eauth) is not IReadOnlyDictionary<string, object?> provider)
        {
            return null; // "The eauth system ... is not enabled": the master refuses
        }

        if (options.ExpandedAuthMatching)
        {
            return new KnownAuthList(eauth, [], [], "auth.enable_expanded_auth_matching is on");
        }

        return FillAuthList(eauth, provider, name, groups, options.PermissiveAcl);
    }

    /// <summary>LoadAuth.get_groups for a credentials load: the eauth module's <c>groups</c>, null when only the master knows them.</summary>
    private static List<string>? GroupsOf(string eauth, string user) => eauth switch
    {
        "pam" => OsGroups.Of(user), // salt.auth.pam.groups: the OS groups (the master's host: this one, for the default setup)
        "ldap" => null,             // an LDAP search with the master's ldap options
        _ => [],                    // no groups function (yubico's answers False): no groups
    };

    /// <summary>
    /// CkMinions.fill_auth_list; with <paramref name="groups"/> null, the group entries go to
    /// <see cref="KnownAuthList.GroupEntries"/> (they may or may not apply).
    /// </summary>
    internal static KnownAuthList FillAuthList(string eauth, IReadOnlyDictionary<string, object?> provider, string name, List<string>? groups, bool permissive)
    {
        var entries = new List<object?>();
        var groupEntries = new List<object?>();
        var nameMatched = false;
        foreach (var (match, value) in provider)
        {
            if (match.StartsWith('^') || (match == "*" && !permissive))
            {
                continue; // ^filename, ^filetype ...: the eauth module's options
            }

            if (value is not List<object?> list)
            {
                return new KnownAuthList(eauth, [], [], "an external_auth entry is not a list");
            }

            if (match.EndsWith('%'))
            {
                if (groups is null)
                {
                    groupEntries.AddRange(list);
                }
                else if (groups.Contains(match.TrimEnd('%'), StringComparer.Ordinal))
                {
                    entries.AddRange(list);
                }
            }
            else if (PyValue.ExprMatch(match, name))
            {
                nameMatched = true;
                entries.AddRange(list);
            }
        }

        if (!permissive && !nameMatched && provider.TryGetValue("*", out var star))
        {
            if (star is not List<object?> list)
            {
                return new KnownAuthList(eauth, [], [], "an external_auth entry is not a list");
            }

            entries.AddRange(list);
        }

        return new KnownAuthList(eauth, entries, groupEntries, null);
    }

    /// <summary>
    /// Every function of <paramref name="funs"/> against the auth list: refused when one is refused, allowed when
    /// all are, else undecided (with the first reason). <paramref name="args"/> is auth_check's <c>args</c>, one
    /// argument list per function.
    /// </summary>
    internal static (Verdict Verdict, string? Why) Decide(KnownAuthList known, IReadOnlyList<object?> funs, IReadOnlyList<object?>? args, object? tgt, string tgtType, bool whitelistFindJob)
    {
        string? undecided = null;
        for (var i = 0; i < funs.Count; i++)
        {
            if (funs[i] is not string fun)
            {
                return (Verdict.Refused, null);
            }

            // saltutil.find_job is the publish's whitelist; for the list it lets only itself through here.
            if (whitelistFindJob && fun == "saltutil.find_job")
            {
                continue;
            }

            var funArgs = args is not null && i < args.Count ? args[i] : null;
            var (verdict, why) = DecideOne(known, fun, funArgs, tgt, tgtType);
            if (verdict == Verdict.Refused)
            {
                return (Verdict.Refused, null);
            }

            if (verdict == Verdict.Undecided)
            {
                undecided ??= why;
            }
        }

        return undecided is null ? (Verdict.Allowed, null) : (Verdict.Undecided, undecided);
    }

    /// <summary>One function, as auth_check walks the auth list for it.</summary>
    internal static (Verdict Verdict, string? Why) DecideOne(KnownAuthList known, string fun, object? funArgs, object? tgt, string tgtType)
    {
        if (known.Unknown is not null)
        {
            return (Verdict.Undecided, known.Unknown);
        }

        string? undecided = null;
        foreach (var entry in known.Entries)
        {
            var (verdict, why) = Entry(entry, fun, funArgs, tgt, tgtType);
            if (verdict == Verdict.Allowed)
            {
                return (Verdict.Allowed, null);
            }

            if (verdict == Verdict.Undecided)
            {
                undecided ??= why;
            }
        }

        if (undecided is null && known.GroupEntries.Any(e => FunctionMatches(e, fun)))
        {
            undecided = "the user's groups are known only to the master";
        }

        return undecided is null ? (Verdict.Refused, null) : (Verdict.Undecided, undecided);
    }

    /// <summary>One entry of the auth list for one function (auth_check's loop body).</summary>
    private static (Verdict Verdict, string? Why) Entry(object? entry, string fun, object? funArgs, object? tgt, string tgtType)
    {
        if (entry is string regex)
        {
            return (PyValue.ReMatch(regex, fun) ? Verdict.Allowed : Verdict.Refused, null); // allowed for all minions
        }

        if (entry is not IReadOnlyDictionary<string, object?> { Count: 1 } map || !FunctionMatches(entry, fun))
        {
            return (Verdict.Refused, null); // another shape is skipped by auth_check; no function regex matches
        }

        var (valid, conds) = map.First();
        var check = FunCheck(conds, fun, funArgs);
        if (check == Verdict.Refused)
        {
            return (Verdict.Refused, null); // its conditions fail for this call, whatever the target
        }

        if (!TargetInside(valid, tgt, tgtType))
        {
            return (Verdict.Undecided, valid.StartsWith("ldap(", StringComparison.Ordinal)
                ? "an ldap( entry, expanded by the master (process_acl)"
                : "a target entry whose minions only the master can resolve");
        }

        return check == Verdict.Allowed ? (Verdict.Allowed, null) : (Verdict.Undecided, "argument conditions that cannot be evaluated here");
    }

    /// <summary>Whether a function regex of the entry (a string, or a target entry's conditions) matches the function.</summary>
    private static bool FunctionMatches(object? entry, string fun) => entry switch
    {
        string regex => PyValue.ReMatch(regex, fun),
        IReadOnlyDictionary<string, object?> { Count: 1 } map => Conditions(map.First().Value).Any(c => c switch
        {
            string r => PyValue.ReMatch(r, fun),
            IReadOnlyDictionary<string, object?> { Count: 1 } named => PyValue.ReMatch(named.First().Key, fun),
            _ => false,
        }),
        _ => false,
    };

    private static List<object?> Conditions(object? valid) => valid is List<object?> l ? l : [valid];

    /// <summary>
    /// CkMinions.__fun_check: a function regex, or <c>{regex: {args: [...], kwargs: {...}}}</c> (or a list of such maps)
    /// checked by __args_check against auth_check's <c>args[num]</c> (its trailing <c>__kwarg__</c> map as the kwargs).
    /// </summary>
    private static Verdict FunCheck(object? valid, string fun, object? funArgs)
    {
        var undecided = false;
        foreach (var cond in Conditions(valid))
        {
            if (cond is string regex)
            {
                if (PyValue.ReMatch(regex, fun))
                {
                    return Verdict.Allowed;
                }
            }
            else if (cond is IReadOnlyDictionary<string, object?> { Count: 1 } named && PyValue.ReMatch(named.First().Key, fun))
            {
                var v = ArgsCheck(named.First().Value, funArgs);
                if (v == Verdict.Allowed)
                {
                    return Verdict.Allowed;
                }

                undecided |= v == Verdict.Undecided;
            }
        }

        return undecided ? Verdict.Undecided : Verdict.Refused;
    }

    /// <summary>CkMinions.__args_check; undecided where Python would index or iterate something else than a list or a map.</summary>
    private static Verdict ArgsCheck(object? valid, object? funArgs)
    {
        if (funArgs is not List<object?> all)
        {
            return Verdict.Undecided; // auth_check's args[num] is missing or not a list: the master's own affair
        }

        var args = all;
        IReadOnlyDictionary<string, object?>? kwargs = null;
        if (all.Count > 0 && all[^1] is IReadOnlyDictionary<string, object?> last && last.ContainsKey("__kwarg__"))
        {
            args = all.GetRange(0, all.Count - 1);
            kwargs = last;
        }

        var undecided = false;
        foreach (var cond in Conditions(valid))
        {
            if (cond is not IReadOnlyDictionary<string, object?> c)
            {
                continue; // invalid argument
            }

            if (c.GetValueOrDefault("args") is not (null or List<object?>) || c.GetValueOrDefault("kwargs") is not (null or IReadOnlyDictionary<string, object?>))
            {
                undecided = true;
                continue;
            }

            var good = true;
            if (c.GetValueOrDefault("args") is List<object?> condArgs)
            {
                for (var i = 0; i < condArgs.Count && good; i++)
                {
                    good = i < args.Count && (condArgs[i] is null || (condArgs[i] is string r && PyValue.ReMatch(r, PyValue.Str(args[i]))));
                }
            }

            if (good && c.GetValueOrDefault("kwargs") is IReadOnlyDictionary<string, object?> condKwargs)
            {
                foreach (var (k, v) in condKwargs)
                {
                    if (kwargs is null || !kwargs.TryGetValue(k, out var given) || !(v is null || (v is string r && PyValue.ReMatch(r, PyValue.Str(given)))))
                    {
                        good = false;
                        break;
                    }
                }
            }

            if (good)
            {
                return Verdict.Allowed;
            }
        }

        return undecided ? Verdict.Undecided : Verdict.Refused;
    }

    /// <summary>
    /// validate_tgt where it can be known without the minion list: the same expression, or minion ids
    /// (a glob without wildcards, a list) that a plain glob entry matches. Anything else: not known.
    /// </summary>
    private static bool TargetInside(string valid, object? tgt, string tgtType) =>
        (tgt is string same && same == valid && tgtType is "glob" or "compound") || IdsInside(valid, tgt, tgtType);

    /// <summary>
    /// Whether <paramref name="tgt"/> names minion ids (a glob without wildcards, a list), each non-empty, matched by
    /// <paramref name="valid"/> as a plain glob, and passing <paramref name="also"/>; false for any other target.
    /// </summary>
    internal static bool IdsInside(string valid, object? tgt, string tgtType, Func<string, bool>? also = null)
    {
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
            if (id is not string s || s.Length == 0 || !PyValue.FnMatch(s, valid) || (also is not null && !also(s)))
            {
                return false;
            }

            any = true;
        }

        return any;
    }
}

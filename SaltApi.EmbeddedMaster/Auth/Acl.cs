using SaltApi.EmbeddedMaster.Targeting;
using SaltApi.EmbeddedMaster.Values;

namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>
/// Salt's ACL checks (<c>CkMinions.auth_check</c>, <c>spec_check</c>, spec/03 §7): function regexes
/// anchored at the start, target maps compared as minion sets, argument restrictions, @runner/@wheel.
/// </summary>
internal sealed class Acl(CheckMinions ckminions)
{
    /// <summary>Salt's <c>auth_check</c> for publish (whitelist: saltutil.find_job).</summary>
    public bool AuthCheck(List<object?> authList, object? funs, object? args, IReadOnlyList<string> minions)
    {
        List<object?> funList;
        List<object?> argLists;
        if (funs is List<object?> fl)
        {
            funList = fl;
            argLists = Py.AsList(args);
        }
        else
        {
            funList = [funs];
            argLists = [args];
        }

        for (var num = 0; num < funList.Count; num++)
        {
            if (funList[num] is not string fun)
            {
                return false; // Salt: TypeError → not authorized
            }

            if (fun == "saltutil.find_job")
            {
                return true;
            }

            foreach (var ind in authList)
            {
                if (ind is string s)
                {
                    if (MatchCheck(s, fun))
                    {
                        return true;
                    }
                }
                else if (Py.AsMap(ind) is { Count: 1 } map)
                {
                    var (valid, matchers) = map.First();
                    if (!ValidateTgt(valid, minions))
                    {
                        continue;
                    }

                    var funArgs = num < argLists.Count ? Py.AsList(argLists[num]) : [];
                    OrderedDictionary<string, object?>? funKwargs = null;
                    if (funArgs.Count > 0 && Py.AsMap(funArgs[^1]) is { } last && last.ContainsKey("__kwarg__"))
                    {
                        funKwargs = last;
                        funArgs = funArgs.Take(funArgs.Count - 1).ToList();
                    }

                    if (FunCheck(matchers, fun, funArgs, funKwargs))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    // Salt's validate_tgt: the targeted minions must be a subset of what the ACL's compound target matches.
    private bool ValidateTgt(string valid, IReadOnlyList<string> minions)
    {
        var allowed = new HashSet<string>(ckminions.Check(valid, "compound").Minions, StringComparer.Ordinal);
        return minions.All(allowed.Contains);
    }

    /// <summary>
    /// Salt's <c>spec_check</c> for runner/wheel: true, false, or the SaltInvocationError map for a
    /// function name without exactly one dot.
    /// </summary>
    public static object SpecCheck(List<object?> authList, string fun, object? args, string form)
    {
        if (authList.Count == 0)
        {
            return false;
        }

        var comps = fun.Split('.');
        if (comps.Length != 2)
        {
            return Py.Map(("error", Py.Map(("name", "SaltInvocationError"), ("message", "A command invocation error occurred: Check syntax."))));
        }

        var (mod, func) = (comps[0], comps[1]);
        var argsMap = Py.AsMap(args);
        var posArgs = argsMap?.Get("arg") is { } a ? Py.AsList(a) : null;
        var kwArgs = argsMap is not null ? Py.AsMap(argsMap.Get("kwarg")) : null;
        foreach (var ind in authList)
        {
            if (ind is string s)
            {
                if (s.Length > 0 && s[0] == '@' && (s[1..] == mod || s[1..] == form || s == $"@{form}s"))
                {
                    return true;
                }
            }
            else if (Py.AsMap(ind) is { Count: 1 } map)
            {
                var (valid, matchers) = map.First();
                if (valid.Length == 0 || valid[0] != '@')
                {
                    continue;
                }

                if (valid[1..] == mod && FunCheck(matchers, func, posArgs, kwArgs))
                {
                    return true;
                }

                if ((valid[1..] == form || valid == $"@{form}s") && FunCheck(matchers, fun, posArgs, kwArgs))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool FunCheck(object? valid, string fun, List<object?>? args, OrderedDictionary<string, object?>? kwargs)
    {
        foreach (var cond in Py.AsList(valid))
        {
            if (cond is string s)
            {
                if (MatchCheck(s, fun))
                {
                    return true;
                }
            }
            else if (Py.AsMap(cond) is { Count: 1 } map)
            {
                var (fname, argCond) = map.First();
                if (MatchCheck(fname, fun) && ArgsCheck(argCond, args, kwargs))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool ArgsCheck(object? valid, List<object?>? args, OrderedDictionary<string, object?>? kwargs)
    {
        foreach (var c in Py.AsList(valid))
        {
            if (Py.AsMap(c) is not { } cond)
            {
                continue;
            }

            var good = true;
            var condArgs = Py.AsList(cond.Get("args"));
            for (var i = 0; i < condArgs.Count; i++)
            {
                if (args is null || args.Count <= i)
                {
                    good = false;
                    break;
                }

                if (condArgs[i] is null)
                {
                    continue;
                }

                if (!MatchCheck(Py.Str(condArgs[i]), Py.Str(args[i])))
                {
                    good = false;
                    break;
                }
            }

            if (!good)
            {
                continue;
            }

            foreach (var (k, v) in Py.AsMap(cond.Get("kwargs")) ?? Py.Map())
            {
                if (kwargs is null || !kwargs.TryGetValue(k, out var actual))
                {
                    good = false;
                    break;
                }

                if (v is null)
                {
                    continue;
                }

                if (!MatchCheck(Py.Str(v), Py.Str(actual)))
                {
                    good = false;
                    break;
                }
            }

            if (good)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Salt's <c>match_check</c>: <c>re.match</c> (anchored at the start only).</summary>
    public static bool MatchCheck(string regex, string fun) => Py.ReMatch(regex, fun);
}

using SaltApi.EmbeddedMaster.Targeting;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>
/// Salt's ACL checks (<c>CkMinions.auth_check</c>, <c>spec_check</c>, spec/03 §7): function regexes
/// anchored at the start, target maps compared as minion sets, argument restrictions, @runner/@wheel.
/// </summary>
internal sealed class Acl(CheckMinions ckminions)
{
    /// <summary>
    /// Salt's <c>auth_check</c> for publish (whitelist: saltutil.find_job). Deliberate difference for a
    /// list-valued fun (a compound command): Salt 3006 allows the whole list as soon as one function in
    /// it is allowed (at once when one is saltutil.find_job); here every function must be allowed.
    /// </summary>
    public bool AuthCheck(List<object?> authList, object? funs, object? args, IReadOnlyList<string> minions)
    {
        if (funs is not List<object?> funList)
        {
            return AuthCheckOne(authList, funs, args, minions);
        }

        var argLists = Py.AsList(args);
        return funList.Count > 0
            && Enumerable.Range(0, funList.Count).All(num => AuthCheckOne(authList, funList[num], num < argLists.Count ? argLists[num] : null, minions));
    }

    // auth_check's loop body for one function and its args.
    private bool AuthCheckOne(List<object?> authList, object? funObj, object? funArgList, IReadOnlyList<string> minions)
    {
        if (funObj is not string fun)
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

                var funArgs = Py.AsList(funArgList);
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
            // Each positional condition needs its argument, each keyword one its kwarg; a None condition matches any value.
            if (Py.AsMap(c) is { } cond
                && Py.AsList(cond.Get("args")).Select((want, i) => (want, i)).All(x =>
                    args is not null && x.i < args.Count && (x.want is null || MatchCheck(PyValue.Str(x.want), PyValue.Str(args[x.i]))))
                && (Py.AsMap(cond.Get("kwargs")) ?? Py.Map()).All(kv =>
                    kwargs is not null && kwargs.TryGetValue(kv.Key, out var actual) && (kv.Value is null || MatchCheck(PyValue.Str(kv.Value), PyValue.Str(actual)))))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Salt's <c>match_check</c>: <c>re.match</c> (anchored at the start only).</summary>
    public static bool MatchCheck(string regex, string fun) => PyValue.ReMatch(regex, fun);
}

using System.Globalization;
using System.Net;
using SaltApi.EmbeddedMaster.Minions;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Targeting;

/// <summary>The result of expanding a target: matched minions and <c>list</c> names without a key.</summary>
internal sealed record TargetResult(List<string> Minions, List<string> Missing);

/// <summary>
/// Salt's <c>CkMinions.check_minions</c> for the master side of targeting: glob, pcre, list, grain,
/// grain_pcre, pillar*, ipcidr, compound (and/or/not, parentheses, G@ E@ P@ L@ I@ J@ S@ N@), nodegroup.
/// Only accepted keys are candidates. Grain matching is greedy as Salt's: a key whose minion left no
/// grains in the data cache stays in the match.
/// </summary>
internal sealed class CheckMinions(MinionRegistry registry, IReadOnlyDictionary<string, object?> nodegroups)
{
    public const string DefaultDelimiter = ":";

    public TargetResult Check(object? expr, string tgtType, string delimiter = DefaultDelimiter)
    {
        try
        {
            return tgtType switch
            {
                "glob" => new(Glob(Str(expr)), []),
                "pcre" => new(Pcre(Str(expr)), []),
                "list" => ListMatch(expr),
                "grain" => new(Cache(Str(expr), delimiter, regex: false, exact: false, pillar: false), []),
                "grain_pcre" => new(Cache(Str(expr), delimiter, regex: true, exact: false, pillar: false), []),
                "pillar" => new(Cache(Str(expr), delimiter, regex: false, exact: false, pillar: true), []),
                "pillar_pcre" => new(Cache(Str(expr), delimiter, regex: true, exact: false, pillar: true), []),
                "pillar_exact" => new(Cache(Str(expr), delimiter, regex: false, exact: true, pillar: true), []),
                "ipcidr" => new(IpCidr(Str(expr)), []),
                "compound" or "compound_pillar_exact" => Compound(expr, delimiter, 0),
                "nodegroup" => Compound(NodegroupExpression(Str(expr), 0), delimiter, 1),
                _ => new([], []), // range and unknown types match nothing here
            };
        }
        catch (TargetException)
        {
            return new([], []);
        }
    }

    /// <summary>
    /// The minions a publish reaches on a real 3006 master, which leaves nodegroups to the client
    /// (LocalClient._prep_pub expands them): <c>tgt_type: nodegroup</c> matches no minion (CkMinions has no
    /// nodegroup matcher), and a compound target that still holds <c>N@</c> reaches none (the master may
    /// list the group, but its minions have no <c>nodegroups</c> and match nothing; our simulated minions
    /// run what the master picked, so the master picks none). Runners and ACLs still expand, as Salt's do.
    /// </summary>
    public TargetResult Published(object? expr, string tgtType, string delimiter = DefaultDelimiter) =>
        tgtType == "nodegroup" || (tgtType is "compound" or "compound_pillar_exact" && HoldsNodegroup(expr))
            ? new([], [])
            : Check(expr, tgtType, delimiter);

    private static bool HoldsNodegroup(object? expr)
    {
        var words = expr switch
        {
            string s => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries),
            IEnumerable<object?> list => list.Select(PyValue.Str),
            _ => [],
        };
        return words.Any(w => w.TrimStart('(').StartsWith("N@", StringComparison.Ordinal));
    }

    private static string Str(object? expr) => expr switch
    {
        string s => s,
        null => "",
        IEnumerable<object?> list => string.Join(",", list.Select(PyValue.Str)),
        _ => PyValue.Str(expr),
    };

    // "*" (nearly every publish) matches every id: no pattern test per minion.
    private List<string> Glob(string expr) => expr == "*" ? [.. registry.Accepted] : registry.Accepted.Where(m => PyValue.FnMatch(m, expr)).ToList();

    private List<string> Pcre(string expr) => PyValue.Compile(expr) is null ? [] : registry.Accepted.Where(m => PyValue.ReMatch(expr, m)).ToList();

    private TargetResult ListMatch(object? expr)
    {
        var names = expr switch
        {
            string s => s.Split(',').Where(x => x.Length > 0).ToList(),
            IEnumerable<object?> list => list.Select(PyValue.Str).ToList(),
            _ => [],
        };
        var minions = new List<string>();
        var missing = new List<string>();
        foreach (var n in names)
        {
            (registry.IsAccepted(n) ? minions : missing).Add(n);
        }

        return new(minions, missing);
    }

    // Greedy: a minion without cached data (no grains) stays in the match.
    private List<string> Cache(string expr, string delimiter, bool regex, bool exact, bool pillar) =>
        registry.Accepted.Where(id => registry.Grains(id) is not { } grains || SubdictMatch.Match(pillar ? Py.Map() : grains, expr, delimiter, regex, exact)).ToList();

    private List<string> IpCidr(string expr)
    {
        IPNetwork? net = null;
        IPAddress? single = null;
        if (expr.Contains('/', StringComparison.Ordinal))
        {
            if (!IPNetwork.TryParse(expr, out var n))
            {
                return [];
            }

            net = n;
        }
        else if (!IPAddress.TryParse(expr, out single))
        {
            return [];
        }

        // Greedy as Cache: a minion without grains stays in the match.
        return registry.Accepted.Where(id => registry.Grains(id) is not { } grains
            || Py.AsList(grains.Get("ipv4")).Concat(Py.AsList(grains.Get("ipv6"))).Select(PyValue.Str)
                .Any(a => IPAddress.TryParse(a, out var ip) && (net is { } nw ? nw.Contains(ip) : ip.Equals(single)))).ToList();
    }

    private string NodegroupExpression(string name, int depth)
    {
        if (depth > 16 || !nodegroups.TryGetValue(name, out var def))
        {
            throw new TargetException();
        }

        // A list nodegroup is a list of minion ids; a string is a compound expression.
        return def switch
        {
            string s => s,
            IEnumerable<object?> list => "L@" + string.Join(",", list.Select(PyValue.Str)),
            _ => throw new TargetException(),
        };
    }

    private TargetResult Compound(object? expr, string delimiter, int depth)
    {
        if (depth > 16)
        {
            throw new TargetException();
        }

        var words = expr switch
        {
            string s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList(),
            IEnumerable<object?> list => list.Select(PyValue.Str).ToList(),
            _ => [],
        };
        if (words.Count == 0)
        {
            return new([], []);
        }

        // Parentheses may be glued to words: "( G@os:Debian and web* )" or "(G@os:Debian".
        var tokens = new List<string>();
        foreach (var w in words)
        {
            var word = w;
            while (word.StartsWith('(') && word.Length > 0)
            {
                tokens.Add("(");
                word = word[1..];
            }

            var closing = 0;
            while (word.EndsWith(')') && !word.Contains("@(", StringComparison.Ordinal) && word.Length > 0)
            {
                closing++;
                word = word[..^1];
            }

            if (word.Length > 0)
            {
                tokens.Add(word);
            }

            tokens.AddRange(Enumerable.Repeat(")", closing));
        }

        var missing = new List<string>();
        var all = new HashSet<string>(registry.Accepted, StringComparer.Ordinal);
        var pos = 0;
        var set = ParseOr(tokens, ref pos, all, missing, delimiter, depth);
        if (pos != tokens.Count)
        {
            throw new TargetException();
        }

        var ordered = registry.Accepted.Where(set.Contains).ToList();
        return new(ordered, missing);
    }

    private HashSet<string> ParseOr(List<string> t, ref int pos, HashSet<string> all, List<string> missing, string delimiter, int depth)
    {
        var left = ParseAnd(t, ref pos, all, missing, delimiter, depth);
        while (pos < t.Count && t[pos] == "or")
        {
            pos++;
            var right = ParseAnd(t, ref pos, all, missing, delimiter, depth);
            left.UnionWith(right);
        }

        return left;
    }

    private HashSet<string> ParseAnd(List<string> t, ref int pos, HashSet<string> all, List<string> missing, string delimiter, int depth)
    {
        var left = ParseNot(t, ref pos, all, missing, delimiter, depth);
        while (pos < t.Count && (t[pos] == "and" || (t[pos] == "not")))
        {
            // "a not b" is read by Salt as "a and not b".
            if (t[pos] == "and")
            {
                pos++;
            }

            var right = ParseNot(t, ref pos, all, missing, delimiter, depth);
            left.IntersectWith(right);
        }

        return left;
    }

    private HashSet<string> ParseNot(List<string> t, ref int pos, HashSet<string> all, List<string> missing, string delimiter, int depth)
    {
        if (pos < t.Count && t[pos] == "not")
        {
            pos++;
            var inner = ParseNot(t, ref pos, all, missing, delimiter, depth);
            var r = new HashSet<string>(all, StringComparer.Ordinal);
            r.ExceptWith(inner);
            return r;
        }

        return ParseAtom(t, ref pos, all, missing, delimiter, depth);
    }

    private HashSet<string> ParseAtom(List<string> t, ref int pos, HashSet<string> all, List<string> missing, string delimiter, int depth)
    {
        if (pos >= t.Count)
        {
            throw new TargetException();
        }

        var word = t[pos++];
        if (word == "(")
        {
            var inner = ParseOr(t, ref pos, all, missing, delimiter, depth);
            if (pos >= t.Count || t[pos] != ")")
            {
                throw new TargetException();
            }

            pos++;
            return inner;
        }

        if (word is ")" or "and" or "or")
        {
            throw new TargetException();
        }

        // An engine may carry its own delimiter: G@key|value with "G@|@" syntax is rare; use the job's.
        var rest = word.Length > 2 && word[1] == '@' && char.IsLetter(word[0]) ? word[2..] : null;
        var matched = rest is null ? Glob(word) : word[0] switch
        {
            'G' => Cache(rest, delimiter, false, false, false),
            'P' => Cache(rest, delimiter, true, false, false),
            'I' => Cache(rest, delimiter, false, false, true),
            'J' => Cache(rest, delimiter, true, false, true),
            'E' => Pcre(rest),
            'S' => IpCidr(rest),
            'L' => WithMissing(ListMatch(rest)),
            'N' => WithMissing(Compound(NodegroupExpression(rest, depth), delimiter, depth + 1)),
            'R' => [],
            _ => throw new TargetException(),
        };
        return new HashSet<string>(matched, StringComparer.Ordinal);

        // A list's (or a nodegroup's) ids without a key join the missing ones, each once.
        List<string> WithMissing(TargetResult r)
        {
            missing.AddRange(r.Missing.Where(m => !missing.Contains(m)));
            return r.Minions;
        }
    }

    private sealed class TargetException : Exception
    {
    }
}

/// <summary>Salt's <c>salt.utils.data.subdict_match</c>: <c>key:sub:value</c> against nested data.</summary>
internal static class SubdictMatch
{
    public static bool Match(OrderedDictionary<string, object?> data, string expr, string delimiter, bool regex, bool exact)
    {
        var splits = expr.Split(delimiter);
        if (splits.Length == 1)
        {
            return false;
        }

        for (var idx = splits.Length - 1; idx > 0; idx--)
        {
            var key = string.Join(delimiter, splits[..idx]);
            object? match;
            string matchstr;
            if (key == "*")
            {
                matchstr = expr;
                match = data;
            }
            else
            {
                matchstr = string.Join(delimiter, splits[idx..]);
                if (!Py.TryTraverse(data, key, delimiter, out match))
                {
                    continue;
                }
            }

            var found = match switch
            {
                // Salt matches the keys of a dict.
                IEnumerable<KeyValuePair<string, object?>> dict => matchstr == "*" || dict.Any(kv => One(kv.Key, matchstr, regex, exact)),
                List<object?> list => list.Any(item => item is OrderedDictionary<string, object?> od
                    ? Match(od, matchstr, delimiter, regex, exact)
                    : One(item, matchstr, regex, exact)),
                _ => One(match, matchstr, regex, exact),
            };
            if (found)
            {
                return true;
            }
        }

        return false;
    }

    private static bool One(object? target, string pattern, bool regex, bool exact)
    {
        var t = PyValue.Str(target);
        if (regex)
        {
            return PyValue.ReMatch(pattern.ToLowerInvariant(), t.ToLowerInvariant());
        }

        if (exact)
        {
            return t == pattern;
        }

        return PyValue.FnMatch(t.ToLowerInvariant(), pattern.ToLowerInvariant());
    }
}

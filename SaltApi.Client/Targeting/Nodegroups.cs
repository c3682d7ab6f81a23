using System.Buffers;
using SaltApi.Abstractions.Errors;
using SaltApi.Protocol.Config;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Targeting;

/// <summary>
/// Nodegroup expansion on the client side, as Salt's LocalClient does it before every publish: a real
/// master does not expand nodegroups in what it publishes (its nodegroup matcher matches no minion, and
/// minions have no <c>nodegroups</c> to resolve <c>N@</c> with), so <c>tgt_type: nodegroup</c> and
/// <c>N@group</c> in a compound target are turned into plain compound expressions here.
/// </summary>
internal static class Nodegroups
{
    /// <summary>Words an expansion may produce: a config whose groups nest each other twice per level doubles per level.</summary>
    internal const int MaxWords = 100_000;

    private static readonly string[] Opers = ["and", "or", "not", "(", ")"];

    private static readonly SearchValues<char> RegexChars = SearchValues.Create("([{\\?}])");

    /// <summary>
    /// The target part of LocalClient._prep_pub: a nodegroup becomes its compound expression, and every
    /// <c>N@group</c> word of a compound target is replaced by the group's expansion; a compound target
    /// is sent as one space-joined string. Other target types pass unchanged.
    /// </summary>
    public static (object? Tgt, string TgtType) PrepTarget(object? tgt, string tgtType, MasterConfig master)
    {
        var groups = master.Nodegroups;
        if (tgtType == "nodegroup")
        {
            // As _prep_pub: "Node group {tgt} unavailable in {conf_file}".
            if (tgt is not string name || !groups.ContainsKey(name))
            {
                throw new SaltInvocationException($"Node group {PyValue.Str(tgt)} unavailable in {master.ConfFile}");
            }

            tgt = (object?)Comp(name, groups) ?? "";
            tgtType = "compound";
        }

        if (tgtType != "compound")
        {
            return (tgt, tgtType);
        }

        IEnumerable<object?> words = tgt switch
        {
            string s => Split(s),
            IEnumerable<object?> list => list,
            null => [],
            _ => [tgt],
        };
        var expanded = new List<string>();
        foreach (var item in words)
        {
            var word = PyValue.Str(item);
            if (word.Length > 2 && word.StartsWith("N@", StringComparison.Ordinal))
            {
                // Deliberate difference: Salt logs an unknown group here and publishes a target that
                // reaches no minion; the caller's mistake is reported instead, as for tgt_type nodegroup.
                var resolved = Comp(word[2..], groups);
                if (resolved is null || resolved.Count == 0)
                {
                    throw new SaltInvocationException($"Node group {word[2..]} unavailable in {master.ConfFile}");
                }

                // Deliberate difference: Salt splices a group's words in as they are, so "G@os:Debian and N@g"
                // with g = "a or b" would read "(G@os:Debian and a) or b"; the group is kept one operand.
                var wrap = resolved.Count > 1 && !Enclosed(resolved);
                if (wrap)
                {
                    expanded.Add("(");
                }

                expanded.AddRange(resolved);
                if (wrap)
                {
                    expanded.Add(")");
                }
            }
            else
            {
                expanded.Add(word);
            }

            Bound(expanded.Count);
        }

        return (string.Join(' ', expanded), "compound");
    }

    /// <summary>
    /// As salt.utils.minions.nodegroup_comp: the words of a nodegroup's expansion, nested groups expanded
    /// in parentheses; null where Salt returns "" (unknown group, a group nested in itself, a definition
    /// that is neither a string nor a list). A top-level group without nested groups is returned as
    /// defined, or as one <c>L@</c> / <c>E@</c> word when it is a bare list of names.
    /// </summary>
    public static List<string>? Comp(string nodegroup, IReadOnlyDictionary<string, object?> nodegroups)
    {
        var total = 0;
        return Comp(nodegroup, nodegroups, new HashSet<string>(StringComparer.Ordinal), firstCall: true, ref total);
    }

    private static List<string>? Comp(string nodegroup, IReadOnlyDictionary<string, object?> nodegroups, HashSet<string> skip, bool firstCall, ref int total)
    {
        // "illegal nested nodegroup" and "unknown nodegroup" both expand to nothing.
        if (skip.Contains(nodegroup) || !nodegroups.TryGetValue(nodegroup, out var lookup))
        {
            return null;
        }

        List<string>? words = lookup switch
        {
            string s => Split(s),
            IEnumerable<object?> list => list.Select(PyValue.Str).ToList(),
            _ => null, // "neither a string, list nor tuple"
        };
        if (words is null)
        {
            return null;
        }

        skip.Add(nodegroup);
        var ret = new List<string>();
        var expandedNodegroup = false;
        foreach (var word in words)
        {
            if (Opers.Contains(word))
            {
                ret.Add(word);
            }
            else if (word.Length >= 3 && word.StartsWith("N@", StringComparison.Ordinal))
            {
                expandedNodegroup = true;
                if (Comp(word[2..], nodegroups, skip, firstCall: false, ref total) is { } nested)
                {
                    ret.AddRange(nested);
                }
            }
            else
            {
                ret.Add(word);
            }

            total++;
            Bound(total + ret.Count);
        }

        if (ret.Count > 0)
        {
            ret.Insert(0, "(");
            ret.Add(")");
        }

        skip.Remove(nodegroup);

        // Only a group that nests others (or a nested one) is returned expanded; otherwise its own words.
        if (expandedNodegroup || !firstCall)
        {
            return !firstCall && ListRegex(words) is { } joined ? joined : ret;
        }

        return ListRegex(words) ?? words;
    }

    /// <summary>salt.utils.minions._nodegroup_regex: a definition without operators, wildcards or engines is a list of names (<c>L@</c>), or a regex (<c>E@</c>) if a name holds a regex character.</summary>
    private static List<string>? ListRegex(List<string> words)
    {
        if (words.Any(w => Opers.Contains(w)))
        {
            return null;
        }

        if (words.Any(w => w.Contains('*', StringComparison.Ordinal) || (w.Length >= 2 && w[0] is >= 'A' and <= 'Z' && w[1] == '@')))
        {
            return null;
        }

        var engine = words.Any(w => w.AsSpan().IndexOfAny(RegexChars) >= 0) ? "E@" : "L@";
        return [engine + string.Join(',', words)];
    }

    // True when the first "(" closes at the last word: the words are one operand already.
    private static bool Enclosed(List<string> words)
    {
        var depth = 0;
        for (var i = 0; i < words.Count; i++)
        {
            depth += words[i] switch { "(" => 1, ")" => -1, _ => 0 };
            if (depth == 0)
            {
                return i == words.Count - 1 && words[0] == "(";
            }
        }

        return false;
    }

    // Python's str.split(): runs of whitespace separate words.
    private static List<string> Split(string s) => [.. s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)];

    private static void Bound(int words)
    {
        if (words > MaxWords)
        {
            throw new SaltInvocationException($"Nodegroup expansion exceeds {MaxWords} words");
        }
    }
}

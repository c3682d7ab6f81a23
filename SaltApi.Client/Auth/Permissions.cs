using SaltApi.Abstractions.Client;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Auth;

/// <summary>
/// rest_cherrypy's <c>/login</c> perms (spec/03 §8): Salt's <c>sum_permissions</c> then <c>sorted_permissions</c>.
/// Fixes Salt's #60955: Python extends the config's own list in place, so it grows with every login;
/// here a fresh list is built on each call and the config is never touched.
/// </summary>
internal static class Permissions
{
    public static IReadOnlyList<object?>? Of(SaltToken token, IReadOnlyDictionary<string, object?> externalAuth)
    {
        if (externalAuth.GetValueOrDefault(token.Eauth) is not IReadOnlyDictionary<string, object?> eauth)
        {
            // Python: None.get(...) raises; any exception gives null perms.
            return null;
        }

        // As rest_cherrypy Login.POST: backends that compute the ACL themselves give it in the token.
        if ((token.Eauth == "django" && eauth.ContainsKey("^model")) || (token.Eauth == "rest" && token.AuthList is not null))
        {
            return token.AuthList is { Count: > 0 } list ? list : null;
        }

        var perms = new List<object?>();
        // The user's EXACT key (no glob or regex here, unlike the master's ACL).
        if (!Extend(perms, eauth, token.Name, required: false) || !Extend(perms, eauth, "*", required: false))
        {
            return null;
        }

        if (token.Groups is { Count: > 0 } groups)
        {
            foreach (var group in groups.Distinct(StringComparer.Ordinal))
            {
                if (!Extend(perms, eauth, group + "%", required: false))
                {
                    return null;
                }
            }
        }

        var sorted = Sorted(perms);
        return sorted.Count == 0 ? null : sorted;
    }

    private static bool Extend(List<object?> perms, IReadOnlyDictionary<string, object?> eauth, string key, bool required)
    {
        if (!eauth.TryGetValue(key, out var v))
        {
            return !required;
        }

        switch (v)
        {
            case string:
            case IReadOnlyDictionary<string, object?>:
            case null:
                // list.extend(None) or of a map's keys: Python raises or extends oddly; perms become null.
                return false;
            case IEnumerable<object?> list:
                perms.AddRange(list);
                return true;
            default:
                return false;
        }
    }

    /// <summary>sorted_permissions: de-duplicated strings by code point, then the rest by Python repr.</summary>
    internal static List<object?> Sorted(IEnumerable<object?> perms)
    {
        var strings = new List<string>();
        var others = new List<(string Repr, object? Value)>();
        foreach (var p in perms)
        {
            if (p is string s)
            {
                if (!strings.Contains(s, StringComparer.Ordinal))
                {
                    strings.Add(s);
                }
            }
            else
            {
                var repr = PyValue.Repr(p);
                if (!others.Exists(o => o.Repr == repr))
                {
                    others.Add((repr, p));
                }
            }
        }

        strings.Sort(CodePointComparer.Instance);
        others.Sort((a, b) => CodePointComparer.Instance.Compare(a.Repr, b.Repr));
        return [.. strings, .. others.Select(o => o.Value)];
    }

    /// <summary>Python's str ordering: by Unicode code point (UTF-16 ordinal differs above U+FFFF).</summary>
    private sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = (x ?? "").EnumerateRunes().GetEnumerator();
            var b = (y ?? "").EnumerateRunes().GetEnumerator();
            while (true)
            {
                var ha = a.MoveNext();
                var hb = b.MoveNext();
                if (!ha || !hb)
                {
                    return ha == hb ? 0 : ha ? 1 : -1;
                }

                var c = a.Current.Value.CompareTo(b.Current.Value);
                if (c != 0)
                {
                    return c;
                }
            }
        }
    }
}

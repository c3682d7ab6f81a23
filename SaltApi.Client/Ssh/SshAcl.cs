using SaltApi.Protocol.Values;

namespace SaltApi.Client.Ssh;

/// <summary>
/// _authorize_ssh's auth_check of one function. NetapiClient's CkMinions has <c>enable_ssh_minions</c>, so the
/// targeted minions are the accepted keys the target matches plus the roster hosts it matches; a
/// <c>{target: [regex]}</c> entry allows only when all of them are among the keys its target matches as a compound
/// (the roster never matches a compound). So such an entry never opens a roster host that is not also an accepted
/// minion key: <c>{'*': ['test.*']}</c> cannot ssh to a roster-only host.
/// </summary>
internal static class SshAcl
{
    /// <summary>Whether the auth list allows <paramref name="fun"/> on <paramref name="tgt"/> over ssh.</summary>
    public static bool Allowed(List<object?> authList, string fun, object? tgt, string tgtType, string pkiDir)
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
                if ((conds is List<object?> l ? l : [conds]).Any(c => c is string r && PyValue.ReMatch(r, fun))
                    && KeysInside(valid, tgt, tgtType, pkiDir))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// validate_tgt where it can be known without the roster: the target names minion ids (a glob without wildcards,
    /// a list), each an accepted key that <paramref name="valid"/>, a plain glob, matches; then the roster can add no
    /// host outside them. Anything else is not inside (narrower than Salt: a target matching no host at all, which
    /// Salt lets through to an empty answer, is refused too).
    /// </summary>
    private static bool KeysInside(string valid, object? tgt, string tgtType, string pkiDir) =>
        Auth.ListFunGate.IdsInside(valid, tgt, tgtType, id => id is not ("." or "..") && id.IndexOfAny(['/', '\\', '\0']) < 0
            && File.Exists(Path.Combine(pkiDir, "minions", id)));
}

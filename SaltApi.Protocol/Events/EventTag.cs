using SaltApi.Protocol.Jobs;

namespace SaltApi.Protocol.Events;

/// <summary>
/// Salt's event tags (salt/utils/event.py <c>tagify</c> and the literals the master and minions fire):
/// built here and read here, so the client layer and the embedded master agree on every one.
/// </summary>
public static class EventTag
{
    /// <summary><c>salt/job/&lt;jid&gt;</c>: the prefix of every event of a published job.</summary>
    public static string Job(string jid) => "salt/job/" + jid;

    /// <summary><c>salt/job/&lt;jid&gt;/new</c>: the master published the job.</summary>
    public static string JobNew(string jid) => Job(jid) + "/new";

    /// <summary><c>salt/job/&lt;jid&gt;/ret/&lt;id&gt;</c>: one minion's return.</summary>
    public static string JobRet(string jid, string minionId) => Job(jid) + "/ret/" + minionId;

    /// <summary><c>salt/job/&lt;jid&gt;/error</c>, or <c>salt/job/error</c> for a publish without a jid.</summary>
    public static string JobError(string jid) => jid.Length > 0 ? Job(jid) + "/error" : "salt/job/error";

    /// <summary><c>salt/run/&lt;jid&gt;</c>: a runner job (its events are <see cref="New"/> and <see cref="Ret"/> under it).</summary>
    public static string Run(string jid) => "salt/run/" + jid;

    /// <summary><c>salt/wheel/&lt;jid&gt;</c>: a wheel job.</summary>
    public static string Wheel(string jid) => "salt/wheel/" + jid;

    /// <summary><c>salt/&lt;client&gt;/&lt;jid&gt;</c>: the tag a runner or wheel job gets when its low gives none.</summary>
    public static string OfClient(string client, string jid) => $"salt/{client}/{jid}";

    /// <summary>A runner or wheel job's start event: <c>&lt;tag&gt;/new</c>.</summary>
    public static string New(string jobTag) => jobTag + "/new";

    /// <summary>A runner or wheel job's return event: <c>&lt;tag&gt;/ret</c>.</summary>
    public static string Ret(string jobTag) => jobTag + "/ret";

    /// <summary><c>salt/minion/&lt;id&gt;/start</c>: a minion started (fired with the legacy <see cref="MinionStartLegacy"/>).</summary>
    public static string MinionStart(string minionId) => $"salt/minion/{minionId}/start";

    /// <summary>The legacy tag a minion start is also fired under.</summary>
    public const string MinionStartLegacy = "minion_start";

    /// <summary>A key was accepted, rejected or deleted.</summary>
    public const string Key = "salt/key";

    /// <summary><c>presence_events</c>: the set of connected minions changed.</summary>
    public const string PresenceChange = "salt/presence/change";

    /// <summary><c>presence_events</c>: the connected minions, every <c>loop_interval</c>.</summary>
    public const string PresencePresent = "salt/presence/present";

    /// <summary>
    /// The jid a tag names: <c>salt/job|run|wheel/&lt;jid&gt;/…</c>, a syndic's forwarded
    /// <c>syndic/&lt;id&gt;/…&lt;jid&gt;…</c> (its first segment that is a jid), or a bare jid tag; else null.
    /// </summary>
    public static string? JidOf(string tag)
    {
        ReadOnlySpan<char> rest;
        if (tag.StartsWith("salt/job/", StringComparison.Ordinal) || tag.StartsWith("salt/run/", StringComparison.Ordinal))
        {
            rest = tag.AsSpan(9);
        }
        else if (tag.StartsWith("salt/wheel/", StringComparison.Ordinal))
        {
            rest = tag.AsSpan(11);
        }
        else if (tag.StartsWith("syndic/", StringComparison.Ordinal))
        {
            // A syndic's forwarded events on a master of masters: syndic/<id>/<jid> (its minion list)
            // or syndic/<id>/salt/job/<jid>/...; the jid is the first segment that is one.
            return tag.Split('/').Skip(2).FirstOrDefault(static part => part.Length >= 20 && Jid.IsJid(part));
        }
        else
        {
            return tag.Length >= 20 && !tag.Contains('/', StringComparison.Ordinal) && Jid.IsJid(tag) ? tag : null;
        }

        var slash = rest.IndexOf('/');
        var jid = slash < 0 ? rest : rest[..slash];
        return jid.IsEmpty ? null : jid.ToString();
    }

    /// <summary>A syndic's forwarded event of the job (<c>syndic/…/&lt;jid&gt;…</c>), as get_iter_returns' <c>syndic/.*/&lt;jid&gt;</c>.</summary>
    public static bool IsSyndicOf(string tag, string jid) =>
        tag.StartsWith("syndic/", StringComparison.Ordinal) && tag.Contains("/" + jid, StringComparison.Ordinal);
}

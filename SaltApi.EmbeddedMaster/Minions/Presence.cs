using System.Globalization;
using SaltApi.EmbeddedMaster.Bus;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Events;

namespace SaltApi.EmbeddedMaster.Minions;

/// <summary>
/// Minion start-up and presence events: each simulated minion "starts" with the master and fires
/// <c>salt/minion/&lt;id&gt;/start</c> and <c>minion_start</c> (relayed as Salt's master does); with
/// <c>presence_events: True</c> the master fires <c>salt/presence/present</c> every <c>loop_interval</c>
/// seconds and <c>salt/presence/change</c> when the set changed.
/// </summary>
internal sealed class Presence(MinionRegistry registry, EventPublisher bus)
{
    private HashSet<string> last = new(StringComparer.Ordinal);

    public void FireStartEvents()
    {
        var started = DateTime.Now.ToString("ddd MMM", CultureInfo.InvariantCulture) + " " + DateTime.Now.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2) + DateTime.Now.ToString(" HH:mm:ss yyyy", CultureInfo.InvariantCulture);
        foreach (var m in registry.Sims.Where(s => s.Connected).OrderBy(s => s.Index))
        {
            foreach (var tag in new[] { EventTag.MinionStart(m.Id), EventTag.MinionStartLegacy })
            {
                bus.Fire(tag, Py.Map(
                    ("id", m.Id),
                    ("tag", tag),
                    ("data", $"Minion {m.Id} started at {started}"),
                    ("cmd", "_minion_event"),
                    ("pretag", null),
                    ("_stamp", EventFrame.Stamp(DateTime.UtcNow))));
            }
        }
    }

    /// <summary>One presence round (Salt's Maintenance.handle_presence).</summary>
    public void Tick()
    {
        var present = registry.Accepted.Where(id => registry.Sim(id) is { Connected: true }).ToList();
        var now = new HashSet<string>(present, StringComparer.Ordinal);
        var added = present.Where(id => !last.Contains(id)).Cast<object?>().ToList();
        var lost = last.Where(id => !now.Contains(id)).Order(StringComparer.Ordinal).Cast<object?>().ToList();
        if (added.Count > 0 || lost.Count > 0)
        {
            bus.Fire(EventTag.PresenceChange, Py.Map(("new", added), ("lost", lost), ("_stamp", EventFrame.Stamp(DateTime.UtcNow))));
        }

        bus.Fire(EventTag.PresencePresent, Py.Map(("present", present.Cast<object?>().ToList()), ("_stamp", EventFrame.Stamp(DateTime.UtcNow))));
        last = now;
    }
}

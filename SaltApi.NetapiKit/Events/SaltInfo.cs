using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.NetapiKit.Events;

/// <summary>Which of Salt's two <c>event_processor</c> modules a <see cref="SaltInfo"/> follows.</summary>
public enum SaltInfoFlavor
{
    /// <summary>rest_cherrypy's (<c>/ws?format_events</c>): messages without a blank line, a presence event's <c>present</c> list only.</summary>
    RestCherrypy,

    /// <summary>rest_tornado's (<c>/formatted_events</c>): each message followed by a blank line, <c>lost</c> and <c>new</c> read first.</summary>
    RestTornado,
}

/// <summary>
/// Salt's <c>event_processor.SaltInfo</c>: a live view of jobs and minions updated from bus events, for
/// rest_cherrypy's <c>/ws?format_events</c> and rest_tornado's <c>/formatted_events</c>; each change is one
/// JSON text message. The two modules' copies in Salt differ, as <see cref="SaltInfoFlavor"/> says.
/// Bounded: the oldest job is dropped past <see cref="MaxJobs"/>, new minions past <see cref="MaxMinions"/>.
/// Deliberate difference: an event missing a field Salt reads (a KeyError that ends Salt's stream) is
/// taken with the field null.
/// </summary>
public sealed class SaltInfo(SaltInfoFlavor flavor)
{
    /// <summary>The most jobs kept; the oldest is dropped past it.</summary>
    public const int MaxJobs = 1000;

    /// <summary>The most minions kept; a new one past it is not added.</summary>
    public const int MaxMinions = 100_000;

    private readonly OrderedDictionary<string, object?> jobs = new(StringComparer.Ordinal);
    private readonly OrderedDictionary<string, OrderedDictionary<string, object?>> minions = new(StringComparer.Ordinal);

    /// <summary>The minions a presence event brought, as a list target for <c>grains.items</c>; null when none.</summary>
    public string? GrainsTarget { get; private set; }

    /// <summary>As SaltInfo.process: the messages to send for one event.</summary>
    public List<string> Process(SaltEvent e)
    {
        GrainsTarget = null;
        var messages = new List<string>();
        var parts = e.Tag.Split('/');
        if (parts.Length < 2)
        {
            return messages;
        }

        var data = e.Data;
        switch (parts[1])
        {
            case "job" when parts.Length > 3 && parts[3] == "new":
                if (flavor == SaltInfoFlavor.RestCherrypy && Str(data, "fun") == "grains.items")
                {
                    // rest_cherrypy's process: a new grains.items job starts the minions' view afresh.
                    minions.Clear();
                }

                NewJob(data);
                messages.Add(Publish("jobs", jobs));
                break;
            case "job" when parts.Length == 5 && parts[3] == "ret":
                RetJob(parts[2], parts[4], data);
                messages.Add(Publish("jobs", jobs));
                if (Str(data, "fun") == "grains.items")
                {
                    // process_minion_update: the minion is the tag's last part.
                    if (Minion(parts[4]) is { } minion)
                    {
                        minion["grains"] = data.GetValueOrDefault("return");
                    }

                    messages.Add(PublishMinions());
                }

                break;
            case "key":
                if (Str(data, "id") is { } id)
                {
                    if (Str(data, "act") == "delete")
                    {
                        minions.Remove(id);
                    }
                    else if (Str(data, "act") == "accept")
                    {
                        Minion(id);
                    }
                }

                messages.Add(PublishMinions());
                break;
            case "presence":
                if (Presence(data))
                {
                    messages.Add(PublishMinions());
                }

                break;
        }

        return messages;
    }

    // process_presence_events: 'lost' (or every minion not 'present') dropped, 'new' (or 'present' ones
    // not known) added and asked for their grains.
    private bool Presence(IReadOnlyDictionary<string, object?> data)
    {
        if (flavor == SaltInfoFlavor.RestCherrypy)
        {
            return data.GetValueOrDefault("present") is IEnumerable<object?> && PresentOnly(Ids(data, "present"));
        }

        var lost = Ids(data, "lost");
        var present = Ids(data, "present");
        var dropped = lost.Count > 0 ? lost : minions.Keys.Where(k => !present.Contains(k)).ToHashSet(StringComparer.Ordinal);
        var changed = false;
        foreach (var id in dropped)
        {
            changed = true;
            minions.Remove(id);
        }

        var fresh = Ids(data, "new");
        if (fresh.Count == 0)
        {
            fresh = present.Where(p => !minions.ContainsKey(p)).ToHashSet(StringComparer.Ordinal);
        }

        var added = fresh.Where(id => Minion(id) is not null).ToList();
        if (added.Count > 0)
        {
            changed = true;
            GrainsTarget = string.Join(',', added);
        }

        return changed;
    }

    // rest_cherrypy's process_presence_events: minions not 'present' dropped; the new ones only asked for their grains.
    private bool PresentOnly(HashSet<string> present)
    {
        var changed = false;
        foreach (var gone in minions.Keys.Where(k => !present.Contains(k)).ToList())
        {
            minions.Remove(gone);
            changed = true;
        }

        var fresh = present.Where(d => !minions.ContainsKey(d)).ToList();
        if (fresh.Count > 0)
        {
            GrainsTarget = string.Join(',', fresh);
            changed = true;
        }

        return changed;
    }

    private static HashSet<string> Ids(IReadOnlyDictionary<string, object?> data, string key) =>
        data.GetValueOrDefault(key) is IEnumerable<object?> ids
            ? ids.Select(i => i?.ToString() ?? "").ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);

    private OrderedDictionary<string, object?>? Minion(string id)
    {
        if (!minions.TryGetValue(id, out var m))
        {
            if (minions.Count >= MaxMinions)
            {
                return null;
            }

            m = new(StringComparer.Ordinal);
            minions[id] = m;
        }

        return m;
    }

    private void NewJob(IReadOnlyDictionary<string, object?> data)
    {
        var jobMinions = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        if (data.GetValueOrDefault("minions") is IEnumerable<object?> ids)
        {
            foreach (var id in ids)
            {
                jobMinions[id?.ToString() ?? ""] = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["success"] = false };
            }
        }

        var jid = Str(data, "jid") ?? "";
        Keep(jid, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["jid"] = flavor == SaltInfoFlavor.RestCherrypy ? jid : data.GetValueOrDefault("jid"),
            ["start_time"] = data.GetValueOrDefault("_stamp"),
            ["minions"] = jobMinions,
            ["fun"] = data.GetValueOrDefault("fun"),
            ["tgt"] = data.GetValueOrDefault("tgt"),
            ["tgt_type"] = data.GetValueOrDefault("tgt_type"),
            ["state"] = "running",
        });
    }

    // process_ret_job_event: the minion's return, retcode and success; complete when every minion succeeded.
    private void RetJob(string jid, string mid, IReadOnlyDictionary<string, object?> data)
    {
        if (jobs.GetValueOrDefault(jid) is not OrderedDictionary<string, object?> job)
        {
            job = new(StringComparer.Ordinal);
            Keep(jid, job);
        }

        if (job.GetValueOrDefault("minions") is not OrderedDictionary<string, object?> jm)
        {
            jm = new(StringComparer.Ordinal);
            job["minions"] = jm;
        }

        if (jm.GetValueOrDefault(mid) is not OrderedDictionary<string, object?> m)
        {
            m = new(StringComparer.Ordinal);
            jm[mid] = m;
        }

        m["return"] = data.GetValueOrDefault("return");
        m["retcode"] = data.GetValueOrDefault("retcode");
        m["success"] = data.GetValueOrDefault("success");
        if (jm.Values.All(v => v is OrderedDictionary<string, object?> x && x.GetValueOrDefault("success") is true))
        {
            job["state"] = "complete";
        }
    }

    private void Keep(string jid, OrderedDictionary<string, object?> job)
    {
        if (!jobs.ContainsKey(jid) && jobs.Count >= MaxJobs)
        {
            jobs.RemoveAt(0);
        }

        jobs[jid] = job;
    }

    // publish_minions: every minion's info with its id.
    private string PublishMinions()
    {
        var all = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (id, info) in minions)
        {
            all[id] = new OrderedDictionary<string, object?>(info, StringComparer.Ordinal) { ["id"] = id };
        }

        return Publish("minions", all);
    }

    // rest_tornado writes a blank line after each message; rest_cherrypy sends the JSON alone.
    private string Publish(string key, object? value) =>
        SaltJson.Serialize(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { [key] = value }) + (flavor == SaltInfoFlavor.RestTornado ? "\n\n" : "");

    private static string? Str(IReadOnlyDictionary<string, object?> d, string key) => d.GetValueOrDefault(key)?.ToString();
}

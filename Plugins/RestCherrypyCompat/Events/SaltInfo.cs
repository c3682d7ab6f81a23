using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.Plugins.RestCherrypyCompat.Events;

/// <summary>
/// rest_cherrypy's <c>event_processor.SaltInfo</c> for <c>/ws?format_events</c>: a jobs and minions
/// view updated from bus events; each change yields one JSON text frame.
/// </summary>
internal sealed class SaltInfo
{
    private const int MaxJobs = 1000;
    private readonly OrderedDictionary<string, object?> jobs = new(StringComparer.Ordinal);
    private OrderedDictionary<string, OrderedDictionary<string, object?>> minions = new(StringComparer.Ordinal);

    /// <summary>Minions seen by a presence event that need a <c>grains.items</c> job (tgt list), else null.</summary>
    public string? PendingGrainsTarget { get; private set; }

    /// <summary>Processes an event; returns the frames to send.</summary>
    public List<string> Process(SaltEvent e)
    {
        PendingGrainsTarget = null;
        var frames = new List<string>();
        var parts = e.Tag.Split('/');
        if (parts.Length < 2)
        {
            return frames;
        }

        var data = e.Data;
        if (parts[1] == "job" && parts.Length >= 4)
        {
            if (parts[3] == "new")
            {
                NewJob(data);
                frames.Add(Publish("jobs", jobs));
                if (Str(data, "fun") == "grains.items")
                {
                    minions = new(StringComparer.Ordinal);
                }
            }
            else if (parts[3] == "ret" && parts.Length >= 5)
            {
                RetJob(parts[2], parts[4], data);
                frames.Add(Publish("jobs", jobs));
                if (Str(data, "fun") == "grains.items")
                {
                    Minion(parts[4])["grains"] = data.GetValueOrDefault("return");
                    frames.Add(PublishMinions());
                }
            }
        }

        if (parts[1] == "key")
        {
            var id = Str(data, "id");
            if (Str(data, "act") == "delete" && id is not null)
            {
                minions.Remove(id);
            }
            else if (Str(data, "act") == "accept" && id is not null)
            {
                Minion(id);
            }

            frames.Add(PublishMinions());
        }

        if (parts[1] == "presence" && data.GetValueOrDefault("present") is IEnumerable<object?> present)
        {
            var detected = present.Select(p => p?.ToString() ?? "").ToHashSet(StringComparer.Ordinal);
            var changed = false;
            foreach (var gone in minions.Keys.Where(k => !detected.Contains(k)).ToList())
            {
                minions.Remove(gone);
                changed = true;
            }

            var fresh = detected.Where(d => !minions.ContainsKey(d)).ToList();
            if (fresh.Count > 0)
            {
                PendingGrainsTarget = string.Join(',', fresh);
                changed = true;
            }

            if (changed)
            {
                frames.Add(PublishMinions());
            }
        }

        return frames;
    }

    private OrderedDictionary<string, object?> Minion(string id)
    {
        if (!minions.TryGetValue(id, out var m))
        {
            m = new(StringComparer.Ordinal);
            minions[id] = m;
        }

        return m;
    }

    private void NewJob(IReadOnlyDictionary<string, object?> data)
    {
        var jid = Str(data, "jid") ?? "";
        var jobMinions = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        if (data.GetValueOrDefault("minions") is IEnumerable<object?> ids)
        {
            foreach (var id in ids)
            {
                jobMinions[id?.ToString() ?? ""] = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["success"] = false };
            }
        }

        if (jobs.Count >= MaxJobs)
        {
            jobs.RemoveAt(0);
        }

        jobs[jid] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["jid"] = jid,
            ["start_time"] = data.GetValueOrDefault("_stamp"),
            ["minions"] = jobMinions,
            ["fun"] = data.GetValueOrDefault("fun"),
            ["tgt"] = data.GetValueOrDefault("tgt"),
            ["tgt_type"] = data.GetValueOrDefault("tgt_type"),
            ["state"] = "running",
        };
    }

    private void RetJob(string jid, string mid, IReadOnlyDictionary<string, object?> data)
    {
        if (jobs.GetValueOrDefault(jid) is not OrderedDictionary<string, object?> job)
        {
            if (jobs.Count >= MaxJobs)
            {
                jobs.RemoveAt(0);
            }

            job = new(StringComparer.Ordinal);
            jobs[jid] = job;
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

    private string PublishMinions()
    {
        var all = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (id, info) in minions)
        {
            var m = new OrderedDictionary<string, object?>(info, StringComparer.Ordinal) { ["id"] = id };
            all[id] = m;
        }

        return Publish("minions", all);
    }

    private static string Publish(string key, object? value) =>
        SaltJson.Serialize(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { [key] = value });

    private static string? Str(IReadOnlyDictionary<string, object?> d, string key) => d.GetValueOrDefault(key)?.ToString();
}

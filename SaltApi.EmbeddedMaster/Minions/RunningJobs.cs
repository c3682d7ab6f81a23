using System.Collections.Concurrent;
using SaltApi.EmbeddedMaster.Values;

namespace SaltApi.EmbeddedMaster.Minions;

/// <summary>Jobs running on the simulated minions (what each minion's proc dir would list).</summary>
internal sealed class RunningJobs
{
    private readonly ConcurrentDictionary<string, Entry> jobs = new(StringComparer.Ordinal);

    private sealed class Entry(OrderedDictionary<string, object?> data, CancellationTokenSource cancel, int minions)
    {
        public OrderedDictionary<string, object?> Data { get; } = data;

        // Sized for the job's minions with one lock: the default (a lock per core, 31 buckets) cost ~500 bytes
        // per job, most jobs having one or a few minions.
        public ConcurrentDictionary<string, long> Pids { get; } = new(1, Math.Max(minions, 1), StringComparer.Ordinal);

        public CancellationTokenSource Cancel { get; } = cancel;
    }

    public CancellationToken Start(string jid, OrderedDictionary<string, object?> pub, int minions, CancellationToken stop)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        jobs[jid] = new Entry(pub, cts, minions);
        return cts.Token;
    }

    public void Add(string jid, string minion, long pid)
    {
        if (jobs.TryGetValue(jid, out var e))
        {
            e.Pids[minion] = pid;
        }
    }

    public void Done(string jid, string minion)
    {
        if (jobs.TryGetValue(jid, out var e))
        {
            e.Pids.TryRemove(minion, out _);
        }
    }

    public void End(string jid)
    {
        if (jobs.TryRemove(jid, out var e))
        {
            e.Cancel.Dispose();
        }
    }

    /// <summary>The proc data of a job running on a minion (saltutil.find_job), or null.</summary>
    public OrderedDictionary<string, object?>? Find(string minion, string jid) =>
        jobs.TryGetValue(jid, out var e) && e.Pids.TryGetValue(minion, out var pid) ? WithPid(e.Data, pid) : null;

    /// <summary>Every job running on a minion (saltutil.running).</summary>
    public IEnumerable<OrderedDictionary<string, object?>> For(string minion) =>
        jobs.Values.Where(e => e.Pids.ContainsKey(minion)).Select(e => WithPid(e.Data, e.Pids.TryGetValue(minion, out var p) ? p : 0));

    /// <summary>Jobs running anywhere: jid → (pub data, minion → pid).</summary>
    public IEnumerable<(string Jid, OrderedDictionary<string, object?> Data, IReadOnlyDictionary<string, long> Pids)> Snapshot() =>
        jobs.Select(kv => (kv.Key, kv.Value.Data, (IReadOnlyDictionary<string, long>)new Dictionary<string, long>(kv.Value.Pids)));

    public bool Kill(string minion, string jid)
    {
        if (jobs.TryGetValue(jid, out var e) && e.Pids.ContainsKey(minion))
        {
            // One job runs on all its minions with one timer here, so a kill stops it everywhere.
            e.Cancel.Cancel();
            return true;
        }

        return false;
    }

    private static OrderedDictionary<string, object?> WithPid(OrderedDictionary<string, object?> data, long pid)
    {
        var m = Py.Copy(data);
        m["pid"] = pid;
        return m;
    }
}

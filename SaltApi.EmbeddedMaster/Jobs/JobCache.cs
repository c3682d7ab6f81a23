using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Jobs;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.EmbeddedMaster.Jobs;

/// <summary>One job in the cache: its saved load, targeted minions and the returns in arrival order.</summary>
internal sealed class Job(string jid, OrderedDictionary<string, object?> load, IReadOnlyList<string> minions, DateTime savedAt, Action<int>? counted = null)
{
    public string Jid { get; } = jid;

    // The load is kept packed as the returns are (below): as a value tree it took ~2 KB of heap per job, packed
    // ~300 bytes, and it is read only by the jobs runners.
    private readonly byte[] load = SaltMsgpack.Serialize(load, MsgpackDialect.Bus);

    /// <summary>The publish load as saved (credentials removed), a fresh copy on each read.</summary>
    public OrderedDictionary<string, object?> Load => (OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(load)!;

    /// <summary>The targeted minions (a copy of the list given, sized to fit).</summary>
    public IReadOnlyList<string> Minions { get; } = minions.ToArray();

    /// <summary>The time the jid names; for a jid that names none, the time the job was saved.</summary>
    public DateTime Started { get; } = Protocol.Jobs.Jid.ToTime(jid) ?? savedAt;

    // Each return is kept packed (msgpack, the bus dialect: strings and bytes stay apart) and unpacked when read:
    // a return as a value tree took ~1 KB of heap, packed ~150 bytes, and the cache holds up to max_jobs jobs.
    // Returns are written once per minion and read only by the jobs runners.
    private readonly OrderedDictionary<string, byte[]> returns = new(StringComparer.Ordinal);

    /// <summary>Adds a minion's return load (the ret event's data); a later return from the same minion replaces it.</summary>
    public void AddReturn(string id, OrderedDictionary<string, object?> ret)
    {
        var packed = SaltMsgpack.Serialize(ret, MsgpackDialect.Bus);
        bool added;
        lock (returns)
        {
            added = !returns.Remove(id);
            returns[id] = packed;
        }

        if (added)
        {
            counted?.Invoke(1);
        }
    }

    /// <summary>How many minions have returned.</summary>
    public int ReturnCount
    {
        get
        {
            lock (returns)
            {
                return returns.Count;
            }
        }
    }

    /// <summary>Whether a minion has returned.</summary>
    public bool HasReturn(string id)
    {
        lock (returns)
        {
            return returns.ContainsKey(id);
        }
    }

    /// <summary>The returns so far, in arrival order (each a fresh copy).</summary>
    public List<(string Id, OrderedDictionary<string, object?> Ret)> Returns
    {
        get
        {
            List<KeyValuePair<string, byte[]>> packed;
            lock (returns)
            {
                packed = [.. returns];
            }

            return packed.Select(kv => (kv.Key, (OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(kv.Value)!)).ToList();
        }
    }
}

/// <summary>
/// The master job cache (Salt's local_cache, in memory): loads and returns by jid, bounded by
/// <c>keep_jobs</c> hours and a job count. With <c>write_job_cache: true</c> each job's load is also written to
/// <c>{cachedir}/jobs/&lt;h[:2]&gt;/&lt;h[2:]&gt;/.load.p</c> as local_cache does, for a Salt LocalClient that checks
/// that file before it waits for returns (spec/02 §7 note A; our client skips that check).
/// </summary>
internal sealed class JobCache
{
    private readonly ConcurrentDictionary<string, Job> jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> order = new();
    private readonly System.Threading.Channels.Channel<Action> background = System.Threading.Channels.Channel.CreateBounded<Action>(
        new System.Threading.Channels.BoundedChannelOptions(100_000) { SingleReader = true, FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });

    private readonly string cachedir;
    private readonly string hashType;
    private readonly double keepJobsHours;
    private readonly int maxJobs;
    private readonly long maxReturns;
    private readonly bool writeToDisk;
    private long totalReturns;
    private int jobCount; // ConcurrentDictionary.Count takes every lock; this is read on every save
    private readonly ILogger log;
    private readonly TimeProvider time;
    private readonly Action<int> countReturns; // one delegate for every job, not one per save

    /// <param name="time">The clock <c>keep_jobs</c> is counted on (jids name UTC times); the system clock when null.</param>
    public JobCache(string cachedir, string hashType, double keepJobsHours, int maxJobs, long maxReturns, bool writeToDisk, ILogger log, TimeProvider? time = null)
    {
        this.time = time ?? TimeProvider.System;
        this.maxReturns = maxReturns;
        this.cachedir = cachedir;
        this.hashType = hashType;
        this.keepJobsHours = keepJobsHours;
        this.maxJobs = maxJobs;
        this.writeToDisk = writeToDisk;
        this.log = log;
        countReturns = n => Interlocked.Add(ref totalReturns, n);
        // Disk work that nothing waits for (the jid and minions files, removing evicted jobs) runs here,
        // off the request path.
        _ = Task.Run(async () =>
        {
            await foreach (var work in background.Reader.ReadAllAsync())
            {
                try
                {
                    work();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    log.LogWarning("job cache: {Error}", e.Message);
                }
            }
        });
    }

    /// <summary>Stops the background disk work.</summary>
    public void Complete() => background.Writer.TryComplete();

    public Job? Get(string jid) => jobs.TryGetValue(jid, out var j) ? j : null;

    public IEnumerable<Job> All => jobs.Values;

    /// <summary>Saves a job's load (Salt's save_load), evicting the oldest when over the bounds.</summary>
    public Job Save(string jid, OrderedDictionary<string, object?> load, IReadOnlyList<string> minions)
    {
        var job = new Job(jid, load, minions, time.GetUtcNow().UtcDateTime, countReturns);
        if (jobs.TryAdd(jid, job))
        {
            Interlocked.Increment(ref jobCount);
            order.Enqueue(jid);
        }
        else
        {
            // A passed jid that already exists is reused, as Salt's prep_jid does.
            if (jobs.TryGetValue(jid, out var old))
            {
                Interlocked.Add(ref totalReturns, -old.ReturnCount);
            }

            jobs[jid] = job;
        }

        Clean();
        if (writeToDisk)
        {
            WriteLoad(jid, load, minions);
        }

        return job;
    }

    /// <summary>Drops the oldest jobs past keep_jobs, the most jobs or the most returns (Salt's clean_old_jobs).</summary>
    public void Clean()
    {
        var cutoff = keepJobsHours > 0 ? time.GetUtcNow().UtcDateTime.AddHours(-keepJobsHours) : DateTime.MinValue;
        while (order.TryPeek(out var oldest))
        {
            var job = Get(oldest);
            var count = Volatile.Read(ref jobCount);
            var tooMany = count > maxJobs || (Interlocked.Read(ref totalReturns) > maxReturns && count > 1);
            var tooOld = job is not null && keepJobsHours > 0 && job.Started < cutoff;
            if (job is not null && !tooMany && !tooOld)
            {
                break;
            }

            if (order.TryDequeue(out var jid))
            {
                if (jobs.TryRemove(jid, out var gone))
                {
                    Interlocked.Decrement(ref jobCount);
                    Interlocked.Add(ref totalReturns, -gone.ReturnCount);
                }

                if (writeToDisk)
                {
                    background.Writer.TryWrite(() => DeleteDir(jid));
                }
            }
        }
    }

    /// <summary>The job directory as local_cache names it: sha256(jid) split after two characters.</summary>
    public string JobDir(string jid)
    {
        var bytes = Encoding.UTF8.GetBytes(jid);
        var h = Convert.ToHexStringLower(HashType.Digest(hashType, bytes) ?? SHA256.HashData(bytes));
        return Path.Combine(cachedir, "jobs", h[..2], h[2..]);
    }

    // Files as local_cache writes them. Deliberate difference: Salt writes .load.p before it answers the
    // publish (LocalClient's check, spec/02 §7 note A, which our client skips); here all disk work is done
    // by the background writer, off the publish path (it was the embedded master's bottleneck under load).
    private void WriteLoad(string jid, OrderedDictionary<string, object?> load, IReadOnlyList<string> minions)
    {
        var loadBytes = SaltMsgpack.Serialize(load, MsgpackDialect.Request);
        var minionBytes = SaltMsgpack.Serialize(minions.Cast<object?>().ToList(), MsgpackDialect.Request);
        background.Writer.TryWrite(() =>
        {
            try
            {
                var dir = JobDir(jid);
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, ".load.p"), loadBytes);
                File.WriteAllText(Path.Combine(dir, "jid"), jid);
                File.WriteAllBytes(Path.Combine(dir, ".minions.p"), minionBytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("job cache: cannot write the load of {Jid}: {Error}", jid, e.Message);
            }
        });
    }

    private void DeleteDir(string jid)
    {
        try
        {
            var dir = JobDir(jid);
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static readonly string[] Months = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>Salt's <c>jid_to_time</c>: <c>2026, Nov 26 17:13:52.452203</c>.</summary>
    public static string JidToTime(string jid)
    {
        if (!Jid.IsJid(jid))
        {
            return "";
        }

        var month = int.Parse(jid.AsSpan(4, 2), CultureInfo.InvariantCulture);
        return $"{jid[..4]}, {(month is >= 1 and <= 12 ? Months[month] : "")} {jid[6..8]} {jid[8..10]}:{jid[10..12]}:{jid[12..14]}.{jid[14..20]}";
    }

    /// <summary>Salt's <c>_format_job_instance</c> (+ StartTime, as <c>_format_jid_instance</c>).</summary>
    public static OrderedDictionary<string, object?> FormatJid(string jid, OrderedDictionary<string, object?>? load, bool withMinions)
    {
        if (load is null)
        {
            return Py.Map(("Error", "Cannot contact returner or no job with this jid"), ("StartTime", JidToTime(jid)));
        }

        var r = Py.Map(
            ("Function", load.Get("fun") ?? "unknown-function"),
            ("Arguments", Py.AsList(load.Get("arg")).ToList()),
            ("Target", load.Get("tgt") ?? "unknown-target"),
            ("Target-type", load.Get("tgt_type") ?? "list"),
            ("User", load.Get("user") ?? "root"));
        if (load.ContainsKey("metadata"))
        {
            r["Metadata"] = load.Get("metadata");
        }
        else if (Py.AsMap(load.Get("kwargs")) is { } kw && kw.ContainsKey("metadata"))
        {
            r["Metadata"] = kw.Get("metadata");
        }

        if (withMinions && load.ContainsKey("Minions"))
        {
            r["Minions"] = load.Get("Minions");
        }

        r["StartTime"] = JidToTime(jid);
        return r;
    }
}

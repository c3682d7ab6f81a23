using System.Threading.Channels;
using SaltApi.Protocol.Events;

namespace SaltApi.Client.Bus;

/// <summary>
/// Routing of bus events to the calls waiting on a job, by jid, through one dictionary lookup per event.
/// The jid of a publish or runner call is only known from the master's reply, and its first events
/// can arrive before that reply is read. So a call opens a <see cref="PendingJob"/> BEFORE it sends:
/// while any pending call exists, events of jids nobody watches yet are kept briefly per jid, and
/// the call claims them together with the jid once the reply is in. Kept events are dropped as soon
/// as every call that was pending when they arrived has claimed its own jid or given up (the jid of
/// a new job is always first seen after its own call opened), and their total is bounded.
/// </summary>
internal sealed partial class EventBusReader
{
    private const int MaxUnclaimedEvents = 50_000;
    private const int MaxUnclaimedPerJid = 10_000;

    private readonly Lock routeLock = new();
    private readonly Dictionary<string, List<JobWatch>> watches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Unclaimed> unclaimed = new(StringComparer.Ordinal);
    private readonly SortedSet<long> pending = [];
    private long pendingSeq;
    private int unclaimedCount;
    private long generation;
    private int routeInterest;

    /// <summary>Opens a pending job: call before sending the request whose events are needed.</summary>
    public PendingJob BeginJob()
    {
        lock (routeLock)
        {
            var id = ++pendingSeq;
            pending.Add(id);
            UpdateInterest();
            return new PendingJob(this, id, generation);
        }
    }

    /// <summary>Watches a jid known before sending (a forced jid, wheel_async).</summary>
    public JobWatch Watch(string jid, ChannelWriter<BusEvent> sink)
    {
        var w = new JobWatch(this, jid, sink);
        lock (routeLock)
        {
            AddWatch(w);
            UpdateInterest();
        }

        return w;
    }

    private void AddWatch(JobWatch w)
    {
        if (!watches.TryGetValue(w.Jid, out var list))
        {
            watches[w.Jid] = list = new List<JobWatch>(1);
        }

        list.Add(w);
    }

    private JobWatch Claim(long pendingId, long since, string jid, ChannelWriter<BusEvent> sink)
    {
        var w = new JobWatch(this, jid, sink);
        lock (routeLock)
        {
            pending.Remove(pendingId);
            if (since != generation)
            {
                // The bus dropped after this call began: its first events may be lost.
                PruneUnclaimed();
                UpdateInterest();
                w.Fail(new BusLostException());
                return w;
            }

            AddWatch(w);
            UpdateInterest();
            if (unclaimed.Remove(jid, out var kept))
            {
                unclaimedCount -= kept.Events.Count;
                foreach (var e in kept.Events)
                {
                    w.Post(e);
                }
            }

            PruneUnclaimed();
        }

        return w;
    }

    private void Release(long pendingId)
    {
        lock (routeLock)
        {
            if (pending.Remove(pendingId))
            {
                PruneUnclaimed();
                UpdateInterest();
            }
        }
    }

    private void Unwatch(JobWatch w)
    {
        lock (routeLock)
        {
            if (watches.TryGetValue(w.Jid, out var list))
            {
                list.Remove(w);
                if (list.Count == 0)
                {
                    watches.Remove(w.Jid);
                    UpdateInterest();
                }
            }
        }
    }

    private void PruneUnclaimed()
    {
        if (unclaimed.Count == 0)
        {
            return;
        }

        if (pending.Count == 0)
        {
            unclaimed.Clear();
            unclaimedCount = 0;
            return;
        }

        var oldestPending = pending.Min;
        foreach (var (jid, kept) in unclaimed)
        {
            // Only calls pending when the jid was first seen can own it; all of those are gone.
            if (kept.Epoch < oldestPending)
            {
                unclaimed.Remove(jid); // allowed while enumerating a Dictionary since .NET Core 3.0
                unclaimedCount -= kept.Events.Count;
            }
        }
    }

    /// <summary>
    /// True when any call watches or is pending (read without the lock by the bus reader). A call opens its
    /// pending job or watch before it sends, so an event already read while this was false cannot be its own.
    /// </summary>
    private bool HasRouteInterest => Volatile.Read(ref routeInterest) > 0;

    private void UpdateInterest() => Volatile.Write(ref routeInterest, watches.Count + pending.Count);

    /// <summary>Whether <see cref="Route"/> would deliver or keep an event of <paramref name="jid"/> (so it is worth decoding).</summary>
    private bool WantsRoute(string jid)
    {
        lock (routeLock)
        {
            if (watches.ContainsKey(jid))
            {
                return true;
            }

            if (pending.Count == 0 || unclaimedCount >= MaxUnclaimedEvents)
            {
                return false;
            }

            return !unclaimed.TryGetValue(jid, out var kept) || kept.Events.Count < MaxUnclaimedPerJid;
        }
    }

    private void Route(BusEvent evt, string jid)
    {
        lock (routeLock)
        {
            if (watches.TryGetValue(jid, out var list))
            {
                foreach (var w in list)
                {
                    w.Post(evt);
                }

                return;
            }

            if (pending.Count == 0 || unclaimedCount >= MaxUnclaimedEvents)
            {
                return;
            }

            if (!unclaimed.TryGetValue(jid, out var kept))
            {
                unclaimed[jid] = kept = new Unclaimed(pendingSeq);
            }

            if (kept.Events.Count < MaxUnclaimedPerJid)
            {
                kept.Events.Add(evt);
                unclaimedCount++;
            }
        }
    }

    /// <summary>The bus went away: events of watched jobs may have been lost; tell every waiting call.</summary>
    private void FailWatches()
    {
        List<JobWatch> all;
        lock (routeLock)
        {
            generation++;
            all = [.. watches.Values.SelectMany(l => l)];
            unclaimed.Clear();
            unclaimedCount = 0;
        }

        foreach (var w in all)
        {
            w.Fail(new BusLostException());
        }
    }

    private sealed class Unclaimed(long epoch)
    {
        public long Epoch { get; } = epoch;

        public List<BusEvent> Events { get; } = [];
    }

    /// <summary>A call that will learn its jid from the master's reply.</summary>
    internal sealed class PendingJob(EventBusReader bus, long id, long generation) : IDisposable
    {
        private int done;

        /// <summary>The jid is known: route its events (including any that came first) to <paramref name="sink"/>.</summary>
        public JobWatch Claim(string jid, ChannelWriter<BusEvent> sink)
        {
            Interlocked.Exchange(ref done, 1);
            return bus.Claim(id, generation, jid, sink);
        }

        /// <summary>Gives up without claiming (the request failed).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0)
            {
                bus.Release(id);
            }
        }
    }

    /// <summary>A call's interest in one jid; dispose to stop routing.</summary>
    internal sealed class JobWatch(EventBusReader bus, string jid, ChannelWriter<BusEvent> sink) : IDisposable
    {
        public string Jid { get; } = jid;

        /// <summary>Set when the sink could not take an event or the bus was lost.</summary>
        public Exception? Error { get; private set; }

        public void Post(BusEvent e)
        {
            if (Error is null && !sink.TryWrite(e))
            {
                Fail(new InvalidOperationException($"more than the bound of unread events for job {Jid}"));
            }
        }

        /// <summary>Wakes the waiting call with <paramref name="e"/>.</summary>
        public void Fail(Exception e)
        {
            Error ??= e;
            sink.TryComplete(e);
        }

        public void Dispose() => bus.Unwatch(this);
    }
}

using System.Diagnostics;
using System.Threading.Channels;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Bus;
using SaltApi.Client.Lowstate;
using SaltApi.Client.Master;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Local;

// The return collector of LocalClient: each minion's return to a published job, as Salt's get_iter_returns.
internal sealed partial class LocalClient
{
    /// <summary>
    /// LocalClient.get_iter_returns + get_cli_event_returns (spec/02 §7): yields <c>(id, {ret, out?, retcode?, jid?})</c>
    /// per return; stragglers are pinged once with <c>saltutil.find_job</c> at <c>timeout</c>; gives up
    /// <c>gather_job_timeout</c> later. The job-cache check of "Note A" is skipped: on the master's host
    /// it always passes.
    /// </summary>
    public async IAsyncEnumerable<MinionReturn> CollectAsync(
        LocalCall call, JobStream job, int timeout, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var gatherJobTimeout = ClientLowstate.LocalTimeout(call.Kwargs.GetValueOrDefault("gather_job_timeout"), options.Master.GatherJobTimeout);
        var expectMinions = PyValue.Truthy(call.Kwargs.GetValueOrDefault("expect_minions"));
        var rawEvents = PyValue.Truthy(call.Kwargs.GetValueOrDefault("raw"));
        var jid = job.Pub.Jid;
        var jobPrefix = EventTag.Job(jid);
        var minions = new HashSet<string>(job.Pub.Minions, StringComparer.Ordinal);
        var order = new List<string>(job.Pub.Minions);
        var found = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        var minionTimeouts = new Dictionary<string, long>(StringComparer.Ordinal);
        var timeoutAt = Now() + Ticks(timeout);
        var orderMasters = options.Master.OrderMasters;
        var syndicWait = (long)(options.Master.SyndicWait * Stopwatch.Frequency);
        var syndicWaitAt = Now() + syndicWait;
        var minionsRunning = true;
        string? jinfoJid = null;
        JobStream? jinfo = null;
        var events = job.Events;
        try
        {
            while (true)
            {
                while (events.TryRead(out var raw))
                {
                    // A master of masters also reads its syndics' events, as get_iter_returns' "(salt/job|syndic/.*)/<jid>".
                    if (raw.Tag.StartsWith(jobPrefix, StringComparison.Ordinal) || (orderMasters && EventTag.IsSyndicOf(raw.Tag, jid)))
                    {
                        var data = raw.Data;
                        if (data.TryGetValue("minions", out var more))
                        {
                            AddAll(minions, order, more);
                            if (data.TryGetValue("missing", out var miss) && miss is List<object?> ml)
                            {
                                missing.AddRange(ml.Select(m => PyValue.Str(m)));
                            }

                            continue;
                        }

                        if (!data.TryGetValue("return", out var value))
                        {
                            continue;
                        }

                        var id = PyValue.Str(data.GetValueOrDefault("id"));
                        found.Add(id);
                        if (rawEvents)
                        {
                            yield return new MinionReturn(id, new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["data"] = data, ["tag"] = raw.Tag }, false);
                            continue;
                        }

                        var ret = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["ret"] = value };
                        foreach (var key in (string[])["out", "retcode", "jid"])
                        {
                            if (data.TryGetValue(key, out var v))
                            {
                                ret[key] = v;
                            }
                        }

                        yield return new MinionReturn(id, ret, false);
                    }
                    else if (jinfoJid is not null && raw.Tag.StartsWith(EventTag.Job(jinfoJid), StringComparison.Ordinal))
                    {
                        if (JinfoEvent(raw.Data, minions, order, minionTimeouts, timeout))
                        {
                            minionsRunning = true;
                        }
                    }
                }

                if (minions.IsSubsetOf(found) && (!orderMasters || (minions.Count > 0 && Now() > syndicWaitAt)))
                {
                    // A master of masters waits syndic_wait for more syndics' minion lists, as get_iter_returns.
                    break;
                }

                var now = Now();
                foreach (var id in minions)
                {
                    if (!found.Contains(id))
                    {
                        minionTimeouts.TryAdd(id, now + Ticks(timeout));
                    }
                }

                if (now > timeoutAt && minionsRunning)
                {
                    // gather_job_info: one saltutil.find_job publish to the stragglers, same kwargs (creds, client, ...).
                    var stragglers = order.Where(m => minions.Contains(m) && !found.Contains(m)).Cast<object?>().ToList();
                    var findJob = call with
                    {
                        Tgt = stragglers,
                        Fun = "saltutil.find_job",
                        ReportsJid = false,
                        Arg = [jid],
                        Kwarg = null,
                        TgtType = "list",
                        Ret = "",
                        Jid = "",
                        Timeout = (long)gatherJobTimeout,
                        Kwargs = FindJobKwargs(call.Kwargs),
                    };
                    jinfo?.Dispose();
                    // Its events go to the job's own reader, so one wait serves both.
                    jinfo = await PublishAsync(findJob, listen: true, ct, job.Sink).ConfigureAwait(false);
                    jinfoJid = jinfo?.Pub.Jid;
                    minionsRunning = false;
                    timeoutAt = Now() + Ticks(gatherJobTimeout) + (orderMasters ? syndicWait : 0);
                }

                now = Now();
                var done = now > timeoutAt && !minionsRunning;
                var nextWake = timeoutAt > now ? timeoutAt : long.MaxValue;
                if (orderMasters && syndicWaitAt > now)
                {
                    nextWake = Math.Min(nextWake, syndicWaitAt);
                }

                foreach (var id in minions)
                {
                    if (!found.Contains(id) && minionTimeouts.TryGetValue(id, out var at) && now < at)
                    {
                        done = false;
                        nextWake = Math.Min(nextWake, at);
                    }
                }

                if (done)
                {
                    break;
                }

                // Instead of Salt's 10 ms spin: sleep until an event arrives or the next deadline passes.
                var wait = nextWake == long.MaxValue
                    ? Spin
                    : TimeSpan.FromTicks(Math.Clamp((nextWake - now) * TimeSpan.TicksPerSecond / Stopwatch.Frequency + TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerMillisecond, Spin.Ticks));
                await WaitAsync(events, wait, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            jinfo?.Dispose();
        }

        // Minions the master reported missing (list targets without a key) get the "[No response]" text,
        // as get_cli_event_returns shapes {"failed": true}; with expect_minions, every straggler too.
        var failed = expectMinions ? order.Where(m => minions.Contains(m) && !found.Contains(m)).Concat(missing) : missing;
        foreach (var id in failed.Distinct(StringComparer.Ordinal).Where(m => !found.Contains(m)).ToList())
        {
            found.Add(id);
            yield return new MinionReturn(id, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["out"] = "no_return",
                ["ret"] = NoResponse + jid,
                ["retcode"] = 1L,
            }, true);
        }
    }

    /// <summary>One find_job return: true when the job still runs on that minion.</summary>
    private static bool JinfoEvent(OrderedDictionary<string, object?> data, HashSet<string> minions, List<string> order, Dictionary<string, long> minionTimeouts, int timeout)
    {
        if (data.GetValueOrDefault("retcode") is long rc && rc > 0 && data.GetValueOrDefault("id") is { } bad)
        {
            minions.Remove(PyValue.Str(bad));
            return false;
        }

        if (data.TryGetValue("minions", out var more))
        {
            AddAll(minions, order, more);
            return false;
        }

        if (!data.TryGetValue("return", out var ret))
        {
            return false;
        }

        switch (ret)
        {
            case OrderedDictionary<string, object?> { Count: 0 }:
            case string:
            case OrderedDictionary<string, object?> r when r.GetValueOrDefault("return") is OrderedDictionary<string, object?> { Count: 0 }:
                return false;
        }

        var id = PyValue.Str(data.GetValueOrDefault("id"));
        if (minions.Add(id))
        {
            order.Add(id);
        }

        minionTimeouts[id] = Now() + Ticks(timeout);
        return true;
    }

    private static OrderedDictionary<string, object?> FindJobKwargs(OrderedDictionary<string, object?> kwargs)
    {
        var k = new OrderedDictionary<string, object?>(kwargs, StringComparer.Ordinal);
        foreach (var name in (string[])["expect_minions", "verbose", "progress", "show_timeout", "show_jid"])
        {
            k.Remove(name);
        }

        return k;
    }

    private static void AddAll(HashSet<string> minions, List<string> order, object? more)
    {
        if (more is not List<object?> list)
        {
            return;
        }

        foreach (var m in list)
        {
            var id = PyValue.Str(m);
            if (minions.Add(id))
            {
                order.Add(id);
            }
        }
    }

    private static async Task WaitAsync(ChannelReader<BusEvent> reader, TimeSpan wait, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(wait);
        try
        {
            await reader.WaitToReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // deadline
        }
        catch (ChannelClosedException e) when (e.InnerException is BusLostException)
        {
            throw new SaltMasterUnavailableException(MasterCalls.NotAvailable, e);
        }
        catch (BusLostException e)
        {
            // Deliberate difference: Salt would wait out its timeouts on a dead bus; the master is gone (503).
            throw new SaltMasterUnavailableException(MasterCalls.NotAvailable, e);
        }
    }

    private static long Now() => Stopwatch.GetTimestamp();

    private static long Ticks(int seconds) => seconds * Stopwatch.Frequency;
}

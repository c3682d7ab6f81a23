using System.Diagnostics;
using System.Threading.Channels;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Bus;
using SaltApi.Client.Request;
using SaltApi.Client.Config;
using SaltApi.Client.Netapi;
using SaltApi.Client.Targeting;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Local;

/// <summary>What a publish got back: Salt's <c>pub_data</c> (null when LocalClient returns <c>{}</c>).</summary>
internal sealed record PubData(string Jid, List<string> Minions);

/// <summary>A publish with its job's events routed to the caller.</summary>
internal sealed class JobStream(PubData pub, EventBusReader.JobWatch? watch, Channel<BusEvent>? events) : IDisposable
{
    public PubData Pub { get; } = pub;

    public ChannelReader<BusEvent> Events => (events ?? throw new InvalidOperationException("published without listening")).Reader;

    public Channel<BusEvent> Sink => events ?? throw new InvalidOperationException("published without listening");

    public void Dispose() => watch?.Dispose();
}

/// <summary>One item of get_iter_returns: a minion's return (or, with <c>raw</c>, the whole event), or a <c>failed</c> minion.</summary>
internal readonly record struct MinionReturn(string Id, OrderedDictionary<string, object?> Data, bool Failed);

/// <summary>The arguments of LocalClient.cmd / run_job, split from a lowstate chunk.</summary>
internal sealed record LocalCall
{
    public required object? Tgt { get; init; }

    public required object? Fun { get; init; }

    public required List<object?> Arg { get; init; }

    public object? Kwarg { get; init; }

    public object? Timeout { get; init; }

    public string TgtType { get; init; } = "glob";

    public object? Ret { get; init; } = "";

    public object? Jid { get; init; } = "";

    public bool FullReturn { get; init; }

    /// <summary>False for the publishes a call makes for itself (find_job, batch's ping, subset's function list): only the job's own jid is the request's.</summary>
    public bool ReportsJid { get; init; } = true;

    /// <summary>Everything else, in lowstate order: goes into the publish <c>kwargs</c> (credentials and <c>client</c> too).</summary>
    public required OrderedDictionary<string, object?> Kwargs { get; init; }

    private static readonly string[] Required = ["tgt", "fun"];

    /// <summary>Binds the lowstate as Python binds <c>cmd(tgt, fun, arg=(), timeout=None, tgt_type="glob", ret="", jid="", full_return=False, kwarg=None, **kwargs)</c>.</summary>
    public static LocalCall From(IReadOnlyDictionary<string, object?> lowstate, string method = "cmd")
    {
        var low = ClientLowstate.Copy(lowstate);
        if (!low.ContainsKey("tgt") || !low.ContainsKey("fun"))
        {
            throw Missing(low, method);
        }

        var call = new LocalCall
        {
            Tgt = ClientLowstate.Pop(low, "tgt"),
            Fun = ClientLowstate.Pop(low, "fun"),
            Arg = ClientLowstate.ArgList(ClientLowstate.Pop(low, "arg")),
            Kwarg = ClientLowstate.Pop(low, "kwarg"),
            Timeout = ClientLowstate.Pop(low, "timeout"),
            TgtType = ClientLowstate.Pop(low, "tgt_type") is string t ? t : "glob",
            Ret = ClientLowstate.Pop(low, "ret", ""),
            Jid = ClientLowstate.Pop(low, "jid", ""),
            // run_job (local_async) has no full_return parameter: there it is one more publish kwarg.
            FullReturn = method != "run_job" && PyValue.Truthy(ClientLowstate.Pop(low, "full_return", false)),
            Kwargs = low,
        };

        // Never forward a caller-supplied ACL: with the root key it would replace the master's (spec/01 §7).
        low.Remove("auth_list");
        return call;
    }

    // Apart from From so that its closure is only allocated on this error path.
    private static SaltInvocationException Missing(OrderedDictionary<string, object?> low, string method)
    {
        var missing = Required.Where(k => !low.ContainsKey(k)).Select(k => $"'{k}'").ToList();
        // Salt's text (a TypeError from the LocalClient method). Deliberate difference: Salt answers 500;
        // a lowstate without tgt or fun is the caller's mistake, so it is an invocation error (400).
        var what = missing.Count == 1 ? $"1 required positional argument: {missing[0]}" : $"2 required positional arguments: {missing[0]} and {missing[1]}";
        return new SaltInvocationException($"{method}() missing {what}");
    }
}

/// <summary>
/// Salt's LocalClient as NetapiClient uses it: <c>local</c> (cmd), <c>local_async</c> (run_job),
/// and the publish they share (spec/01 §5.3, spec/02 §7, spec/03 §5.1–5.2).
/// </summary>
internal sealed partial class LocalClient(MasterCalls master, EventBusReader bus, ClientOptions options)
{
    private const string NoResponse =
        "Minion did not return. [No response]\nThe minions may not have all finished running and any remaining minions will return upon completion. To look up the return data for this job later, run the following command:\n\nsalt-run jobs.lookup_jid ";

    private static readonly TimeSpan Spin = TimeSpan.FromMilliseconds(500);

    /// <summary>The refusal of a lowstate's jid that is malformed or in use.</summary>
    internal const string InvalidJid = "Invalid jid: a lowstate's jid must be a Salt jid (20 digits of a time, optionally _ and a suffix of letters, digits, _ or -) that is not already in use";

    private readonly ExistsProbe publishPull = new(Path.Combine(options.Master.SockDir, "publish_pull.ipc"));

    /// <summary><c>local_async</c>: <c>{jid, minions}</c>, or <c>{}</c> when nothing matched.</summary>
    public async Task<object?> RunJobAsync(LocalCall call, CancellationToken ct)
    {
        var pub = await PublishAsync(call, listen: false, ct).ConfigureAwait(false);
        return pub is null
            ? new OrderedDictionary<string, object?>()
            : new OrderedDictionary<string, object?> { ["jid"] = pub.Pub.Jid, ["minions"] = pub.Pub.Minions.Cast<object?>().ToList() };
    }

    /// <summary><c>local</c>: LocalClient.cmd — publish, then collect the returns as get_iter_returns does.</summary>
    public async Task<object?> CmdAsync(LocalCall call, CancellationToken ct)
    {
        var timeout = ClientLowstate.LocalTimeout(call.Timeout, options.Master.Timeout);
        var result = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        using var job = await PublishAsync(call, listen: true, ct).ConfigureAwait(false);
        if (job is null)
        {
            return result;
        }

        await foreach (var (id, data, _) in CollectAsync(call, job, timeout, ct).ConfigureAwait(false))
        {
            result[id] = call.FullReturn ? data : data.GetValueOrDefault("ret", new OrderedDictionary<string, object?>());
        }

        foreach (var id in job.Pub.Minions)
        {
            result.TryAdd(id, false);
        }

        return result;
    }

    /// <summary>
    /// LocalClient.pub + run_job + _check_pub_data. With <paramref name="listen"/> the bus is connected
    /// first and the job's events are routed to the returned stream (subscribe before publish).
    /// Null when Salt's LocalClient would return <c>{}</c> (nothing matched, no jid).
    /// </summary>
    public async Task<JobStream?> PublishAsync(LocalCall call, bool listen, CancellationToken ct, Channel<BusEvent>? into = null)
    {
        var timeout = ClientLowstate.LocalTimeout(call.Timeout, options.Master.Timeout);
        var perAttempt = TimeSpan.FromSeconds(Math.Max(1, timeout));
        if (!string.Equals(options.Master.IpcMode, "tcp", StringComparison.OrdinalIgnoreCase)
            && !publishPull.Exists())
        {
            // Deliberate difference: Salt wraps this into a generic SaltClientError (500); it means the master is down (503).
            throw new SaltMasterUnavailableException("The salt master could not be contacted. Is master running?");
        }

        // Deliberate difference: Salt publishes a lowstate's jid as given (any event tag, or another user's job
        // overwritten in the job cache); here only a well-formed jid not already in use (JobIds).
        if (call.Jid is not (null or "") && (call.Jid is not string own || !bus.Jids.TryClaim(own)))
        {
            throw new SaltInvocationException(InvalidJid);
        }

        // _prep_pub: nodegroups expanded here (a master does not), ext_job_cache added to ret.
        var (tgt, tgtType) = Nodegroups.PrepTarget(call.Tgt, call.TgtType, options.Master);
        var ret = PrepPub.Ret(call.Ret, options.Master.ExtJobCache);
        if (listen && !await bus.WaitConnectedAsync(perAttempt, ct).ConfigureAwait(false))
        {
            throw new SaltMasterUnavailableException(bus.Unreachable ? MasterCalls.NotAvailable : MasterCalls.PublishTimedOut);
        }

        var load = new OrderedDictionary<string, object?>(11, StringComparer.Ordinal)
        {
            ["cmd"] = "publish",
            ["tgt"] = tgt,
            ["fun"] = call.Fun,
            ["arg"] = ClientLowstate.ConditionInput(call.Arg, call.Kwarg),
            // The root key is never read nor sent (spec/01 §7): eauth or a token always rides in kwargs.
            ["key"] = "",
            ["tgt_type"] = tgtType,
            ["ret"] = ret,
            ["jid"] = call.Jid,
        };
        if (call.Kwargs.Count > 0)
        {
            load["kwargs"] = call.Kwargs;
        }

        load["user"] = "root";
        if (options.Master.OrderMasters)
        {
            // A master of masters passes the timeout on to its syndics.
            load["to"] = (long)timeout;
        }

        var sink = !listen ? null : into ?? Channel.CreateBounded<BusEvent>(new BoundedChannelOptions(options.JobEventQueue) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        var pending = listen ? bus.BeginJob() : null;
        try
        {
            var reply = await master.PublishAsync(load, perAttempt, ct).ConfigureAwait(false);

            var pub = CheckPubData(reply, options.Master.OrderMasters);
            if (pub is null)
            {
                return null;
            }

            if (call.ReportsJid)
            {
                NetapiCall.Current?.JobStarted(pub.Jid); // the X-Salt-Jid header, even when the call then times out
            }

            // local_async never reads the bus.
            return new JobStream(pub, pending?.Claim(pub.Jid, sink!.Writer), sink);
        }
        finally
        {
            pending?.Dispose();
        }
    }

    /// <summary>LocalClient.pub's reply handling and run_job's _check_pub_data.</summary>
    private static PubData? CheckPubData(object? reply, bool orderMasters)
    {
        switch (reply)
        {
            case "":
                throw new SaltAuthenticationException(
                    "Failed to authenticate! This is most likely because this user is not permitted to execute commands, but there is a small possibility that a disk error occurred (check disk/inode usage).");
            case OrderedDictionary<string, object?> { Count: 0 }:
                return null;
            case OrderedDictionary<string, object?> map:
            {
                if (map.TryGetValue("error", out var error))
                {
                    if (error is OrderedDictionary<string, object?> e)
                    {
                        var name = e.GetValueOrDefault("name") as string;
                        var message = PyValue.Str(e.GetValueOrDefault("message", ""));
                        if (name == "AuthenticationError")
                        {
                            throw new SaltAuthenticationException(message, "AuthenticationError");
                        }

                        if (name == "AuthorizationError")
                        {
                            throw new SaltAuthorizationException(message);
                        }
                    }

                    throw new SaltClientException(PyValue.Str(error), "PublishError");
                }

                if (map.GetValueOrDefault("load") is not OrderedDictionary<string, object?> load)
                {
                    throw new SaltClientException("'load'", "KeyError");
                }

                if (load.GetValueOrDefault("jid") is not string jid || jid.Length == 0 || jid == "0")
                {
                    return null;
                }

                var minions = (load.GetValueOrDefault("minions") as List<object?> ?? []).Select(m => PyValue.Str(m)).ToList();
                if (minions.Count == 0 && !orderMasters)
                {
                    // "No minions matched the target. No command was sent, no jid was assigned."
                    // A master of masters goes on: its syndics' minions are not known yet.
                    return null;
                }

                return new PubData(jid, minions);
            }

            default:
                // Bare strings such as "bad load": Python fails on them and run_job wraps that into SaltClientError.
                throw new SaltClientException(PyValue.Str(reply), "SaltClientError");
        }
    }

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
                while (TryRead(events, out var raw))
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

    private static bool TryRead(ChannelReader<BusEvent> reader, out BusEvent evt)
    {
        try
        {
            return reader.TryRead(out evt!);
        }
        catch (ChannelClosedException)
        {
            evt = null!;
            return false;
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
            throw new SaltMasterUnavailableException("Salt Master is not available.", e);
        }
        catch (BusLostException e)
        {
            // Deliberate difference: Salt would wait out its timeouts on a dead bus; the master is gone (503).
            throw new SaltMasterUnavailableException("Salt Master is not available.", e);
        }
    }

    private static long Now() => Stopwatch.GetTimestamp();

    private static long Ticks(int seconds) => seconds * Stopwatch.Frequency;
}

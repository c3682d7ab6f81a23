using System.Threading.Channels;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Bus;
using SaltApi.Client.Config;
using SaltApi.Client.Lowstate;
using SaltApi.Client.Master;
using SaltApi.Client.Targeting;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Local;

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
        if (!options.Master.IpcTcp && !publishPull.Exists())
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

            bus.Jids.Published(pub.Jid);
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
}

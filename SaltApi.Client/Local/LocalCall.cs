using System.Threading.Channels;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Bus;
using SaltApi.Client.Lowstate;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Local;

/// <summary>What a publish got back: Salt's <c>pub_data</c> (null when LocalClient returns <c>{}</c>).</summary>
internal sealed record PubData(string Jid, List<string> Minions);

/// <summary>A publish with its job's events routed to the caller.</summary>
internal sealed class JobStream(PubData pub, EventBusReader.JobWatch? watch, Channel<BusEvent>? events) : IDisposable
{
    public PubData Pub { get; } = pub;

    public Channel<BusEvent> Sink => events ?? throw new InvalidOperationException("published without listening");

    public ChannelReader<BusEvent> Events => Sink.Reader;

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

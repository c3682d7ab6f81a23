using System.Text.RegularExpressions;
using System.Threading.Channels;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Bus;
using SaltApi.Client.Config;
using SaltApi.Client.Lowstate;
using SaltApi.Client.Master;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Runner;

/// <summary>
/// Salt's RunnerClient as NetapiClient uses it: <c>runner</c> (cmd_sync: wait for <c>salt/run/&lt;jid&gt;/ret</c>)
/// and <c>runner_async</c> (cmd_async), spec/03 §4.2, §5.5–5.6.
/// </summary>
internal sealed partial class RunnerClient(MasterCalls master, EventBusReader bus, ClientOptions options)
{
    private static readonly string[] CredKeys = ["username", "password", "eauth", "token", "client", "user", "key"];

    /// <summary><c>runner</c>: the runner's return, or with <c>full_return</c> the whole ret event.</summary>
    public async Task<object?> CmdSyncAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken ct)
    {
        var low = ClientLowstate.Copy(lowstate);
        var timeoutValue = ClientLowstate.Pop(low, "timeout");
        var fullReturn = PyValue.Truthy(ClientLowstate.Pop(low, "full_return", false));
        var load = ReformatLow(low);
        // rest_timeout unless the lowstate gives one; 0 waits for ever (Salt's get_event wait=0 semantics as spec/02 §6).
        var seconds = timeoutValue is null ? options.Master.RestTimeout : ClientLowstate.Seconds(timeoutValue) ?? options.Master.RestTimeout;

        // Subscribe before publish: RunnerClient opens its listener before sending the runner request.
        if (!await bus.WaitConnectedAsync(options.MasterCallTimeout, ct).ConfigureAwait(false))
        {
            throw new SaltMasterUnavailableException(bus.Unreachable ? MasterCalls.NotAvailable : MasterCalls.MessageTimedOut);
        }

        var sink = Channel.CreateBounded<BusEvent>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.DropOldest });
        using (var pending = bus.BeginJob())
        {
            var reply = await master.CallAsync(load, ct).ConfigureAwait(false);
            var (tag, jid) = TagAndJid(reply);
            NetapiCall.Current?.JobStarted(jid);
            using (pending.Claim(jid, sink.Writer))
            {
                var retTag = EventTag.Ret(tag);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                if (seconds > 0)
                {
                    deadline.CancelAfter(TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue / 1000.0)));
                }

                try
                {
                    await foreach (var evt in sink.Reader.ReadAllAsync(deadline.Token).ConfigureAwait(false))
                    {
                        if (!evt.Tag.StartsWith(retTag, StringComparison.Ordinal))
                        {
                            continue;
                        }

                        return fullReturn
                            ? new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["data"] = evt.Data, ["tag"] = evt.Tag }
                            : evt.Data.GetValueOrDefault("return");
                    }
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new SaltTimeoutException($"RunnerClient job '{jid}' timed out");
                }
                catch (BusLostException e)
                {
                    // Deliberate difference: Salt would wait out rest_timeout on a dead bus; the master is gone (503).
                    throw new SaltMasterUnavailableException(MasterCalls.NotAvailable, e);
                }

                throw new SaltTimeoutException($"RunnerClient job '{jid}' timed out");
            }
        }
    }

    /// <summary><c>runner_async</c>: <c>{tag, jid}</c> as the master answered.</summary>
    public async Task<object?> CmdAsyncAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken ct)
    {
        var low = ClientLowstate.Copy(lowstate);
        // Consumed by the sync client only; never sent as runner kwargs (spec/03 §4.2).
        low.Remove("timeout");
        low.Remove("full_return");
        var reply = await master.CallAsync(ReformatLow(low), ct).ConfigureAwait(false);
        NetapiCall.Current?.JobStarted(TagAndJid(reply).Jid);
        return reply;
    }

    private static (string Tag, string Jid) TagAndJid(object? reply)
    {
        if (reply is OrderedDictionary<string, object?> map && map.GetValueOrDefault("tag") is string tag)
        {
            return (tag, map.GetValueOrDefault("jid") is string jid ? jid : PyValue.Str(map.GetValueOrDefault("jid")));
        }

        // Python: KeyError on job["tag"] (a 500 in rest_cherrypy).
        throw new SaltClientException(reply is OrderedDictionary<string, object?> ? "'tag'" : PyValue.Str(reply), reply is OrderedDictionary<string, object?> ? "KeyError" : "SaltClientError");
    }

    /// <summary>RunnerClient._reformat_low (spec/03 §4.2): <c>{fun, kwarg: {kwarg, arg}, creds..., cmd}</c>.</summary>
    internal static OrderedDictionary<string, object?> ReformatLow(OrderedDictionary<string, object?> low)
    {
        if (!low.Remove("fun", out var fun))
        {
            throw new SaltInvocationException("runner() missing 1 required positional argument: 'fun'"); // Salt: a TypeError, 500
        }

        var creds = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var k in CredKeys)
        {
            if (low.Remove(k, out var v) && k != "key")
            {
                // The root key is never forwarded (spec/01 §7).
                creds[k] = v;
            }
        }

        low.Remove("auth_list");
        var pos = new List<object?>();
        var kw = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var a in ClientLowstate.ArgList(ClientLowstate.Pop(low, "arg")))
        {
            switch (a)
            {
                case string s when KwargRegex().Match(s) is { Success: true } m:
                    kw[m.Groups[1].Value] = RunnerYamlify.Arg(m.Groups[2].Value);
                    break;
                case string s:
                    pos.Add(RunnerYamlify.Arg(s));
                    break;
                case IReadOnlyDictionary<string, object?> map when map.TryGetValue("__kwarg__", out var flag) && flag is true:
                    foreach (var (k, v) in map)
                    {
                        if (k != "__kwarg__")
                        {
                            kw[k] = v;
                        }
                    }

                    break;
                default:
                    pos.Add(a);
                    break;
            }
        }

        if (ClientLowstate.Pop(low, "kwarg") is IReadOnlyDictionary<string, object?> kwarg)
        {
            foreach (var (k, v) in kwarg)
            {
                kw[k] = v;
            }
        }

        // "Old style" kwargs: every remaining lowstate key.
        foreach (var (k, v) in low)
        {
            kw[k] = v;
        }

        var load = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["fun"] = fun,
            ["kwarg"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["kwarg"] = kw, ["arg"] = pos },
        };
        foreach (var (k, v) in creds)
        {
            load[k] = v;
        }

        load["cmd"] = "runner";
        return load;
    }

    // salt.utils.args.KWARG_REGEX
    [GeneratedRegex(@"^([^\d\W][\w.-]*)=(?!=)(.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex KwargRegex();
}

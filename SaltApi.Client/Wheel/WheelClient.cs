using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Lowstate;
using SaltApi.Client.Master;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Jobs;

namespace SaltApi.Client.Wheel;

/// <summary>Salt's WheelClient as NetapiClient uses it: <c>wheel</c> and <c>wheel_async</c> (spec/03 §5.7–5.8).</summary>
internal sealed class WheelClient(MasterCalls master, ILogger log)
{
    /// <summary><c>wheel</c>: the master's reply <c>{tag, data}</c> as is; the load is the lowstate with <c>fun</c> moved last, plus <c>cmd</c>.</summary>
    public async Task<object?> CmdSyncAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken ct)
    {
        var reply = await master.CallAsync(Load(lowstate, null), ct).ConfigureAwait(false);
        // The master runs a wheel call at once and answers {tag, data: {jid, return, ...}}.
        if (reply is OrderedDictionary<string, object?> map && map.GetValueOrDefault("data") is OrderedDictionary<string, object?> data && data.GetValueOrDefault("jid") is string jid)
        {
            NetapiCall.Current?.JobStarted(jid);
        }

        return reply;
    }

    /// <summary>How long <c>wheel_async</c> waits for the master to accept or refuse the call before answering.</summary>
    internal static readonly TimeSpan AuthWindow = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <c>wheel_async</c>: as Python salt-api, the jid is made here and the wheel request carries
    /// <c>__jid__</c>, <c>__tag__</c> and <c>__user__</c>. Deliberate difference: Salt answers <c>{tag, jid}</c>
    /// before the master has looked at the credentials (the path of CVE-2021-25281); here the answer waits until
    /// the master has replied or <see cref="AuthWindow"/> has passed, so bad credentials are a 401 as for every
    /// other client. A call still running after the window goes on in the background.
    /// </summary>
    public async Task<object?> CmdAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken cancellationToken)
    {
        var jid = Jid.New();
        var tag = EventTag.Wheel(jid);
        var load = Load(lowstate, (jid, tag));
        var call = master.CallAsync(load, CancellationToken.None);
        await Task.WhenAny(call, Task.Delay(AuthWindow, cancellationToken)).ConfigureAwait(false);
        if (call.IsCompleted)
        {
            await call.ConfigureAwait(false); // a refusal surfaces as the caller's error
        }
        else
        {
            _ = call.ContinueWith(
                t => log.LogWarning("wheel_async job {Jid} failed: {Error}", jid, t.Exception?.GetBaseException().Message),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
        }

        NetapiCall.Current?.JobStarted(jid);
        return new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["tag"] = tag, ["jid"] = jid };
    }

    private static OrderedDictionary<string, object?> Load(IReadOnlyDictionary<string, object?> lowstate, (string Jid, string Tag)? async)
    {
        var load = ClientLowstate.Copy(lowstate);
        if (!load.Remove("fun", out var fun))
        {
            throw new SaltInvocationException("wheel() missing 1 required positional argument: 'fun'"); // Salt: a TypeError, 500
        }

        load.Remove("auth_list");
        load["fun"] = fun;
        if (async is { } a)
        {
            load["__jid__"] = a.Jid;
            load["__tag__"] = a.Tag;
            load["__user__"] = "UNKNOWN";
        }

        load["cmd"] = "wheel";
        return load;
    }
}

using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Netapi;
using SaltApi.Protocol.Jobs;

namespace SaltApi.Client.Wheel;

/// <summary>Salt's WheelClient as NetapiClient uses it: <c>wheel</c> and <c>wheel_async</c> (spec/03 §5.7–5.8).</summary>
internal sealed class WheelClient(MasterCalls master, ILogger log)
{
    /// <summary><c>wheel</c>: the master's reply <c>{tag, data}</c> as is; the load is the lowstate with <c>fun</c> moved last, plus <c>cmd</c>.</summary>
    public Task<object?> CmdSyncAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken ct) =>
        master.CallAsync(Load(lowstate, null), ct);

    /// <summary>
    /// <c>wheel_async</c>: as Python salt-api, the jid is made here, <c>{tag, jid}</c> is answered at once and
    /// the wheel request runs in the background with <c>__jid__</c>, <c>__tag__</c> and <c>__user__</c>.
    /// </summary>
    public object? CmdAsync(IReadOnlyDictionary<string, object?> lowstate)
    {
        var jid = Jid.New();
        var tag = "salt/wheel/" + jid;
        var load = Load(lowstate, (jid, tag));
        _ = Task.Run(async () =>
        {
            try
            {
                await master.CallAsync(load, CancellationToken.None).ConfigureAwait(false);
            }
            catch (SaltApiException e)
            {
                log.LogWarning("wheel_async job {Jid} failed: {Error}", jid, e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log.LogError(e, "wheel_async job {Jid} failed", jid);
            }
        });
        return new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["tag"] = tag, ["jid"] = jid };
    }

    private static OrderedDictionary<string, object?> Load(IReadOnlyDictionary<string, object?> lowstate, (string Jid, string Tag)? async)
    {
        var load = Lowstate.Copy(lowstate);
        if (!load.Remove("fun", out var fun))
        {
            throw new SaltClientException("wheel() missing 1 required positional argument: 'fun'", "TypeError");
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

using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Values;
using SaltApi.Protocol.Msgpack;
using SaltApi.Protocol.Values;

namespace SaltApi.EmbeddedMaster.Channel;

/// <summary>
/// The master's request handling: the pre-dispatch rules of ReqServerChannel.handle_message and the
/// six clear commands of Salt's ClearFuncs (spec/01 §4–5), with Salt's reply shapes.
/// </summary>
internal sealed partial class ClearFuncs(MasterContext ctx)
{
    private const string SomeException = "Some exception handling minion payload";

    // The primary constructor parameter is in scope only in this part: the other parts use the field.
    private readonly MasterContext ctx = ctx;

    /// <summary>Handles one request payload; null means no reply at all (undecodable bytes, as Salt).</summary>
    public async Task<byte[]?> HandleAsync(byte[] payload)
    {
        object? decoded;
        try
        {
            decoded = SaltMsgpack.Deserialize(payload);
        }
        catch (Exception e) when (e is SaltProtocolException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            // Salt's worker never answers undecodable bytes; the client times out and retries.
            ctx.Log.LogWarning("request channel: undecodable payload ({Bytes} bytes); not answering, as Salt", payload.Length);
            return null;
        }

        var reply = await DispatchAsync(decoded);
        return SaltMsgpack.Serialize(reply, MsgpackDialect.Request);
    }

    private async Task<object?> DispatchAsync(object? decoded)
    {
        // _decode_payload: payload["enc"] (TypeError/KeyError → "bad load"); aes loads cannot be decrypted here.
        if (decoded is not OrderedDictionary<string, object?> envelope || !envelope.TryGetValue("enc", out var enc) || enc is "aes")
        {
            return "bad load";
        }

        if (envelope.Get("load") is not OrderedDictionary<string, object?> load)
        {
            return "payload and load must be a dict";
        }

        if (load.TryGetValue("id", out var id))
        {
            switch (id)
            {
                case string s when s.Contains('\0', StringComparison.Ordinal):
                    return "bad load: id contains a null byte";
                case string or List<object?> or OrderedDictionary<string, object?>:
                    break; // `"\0" in id` works on these
                default:
                    return $"bad load: id {PyValue.Str(id)} is not a string";
            }
        }

        if (load.Get("cmd") is "_auth")
        {
            // Deliberate difference: minion key authentication is not served (the minions are in-process).
            return Py.Map(("enc", "clear"), ("load", Py.Map(("ret", false))));
        }

        if (envelope.Get("version") is long v && v > 1)
        {
            load.Remove("nonce");
        }

        if (!load.TryGetValue("cmd", out var cmd))
        {
            return SomeException;
        }

        try
        {
            return cmd switch
            {
                "ping" => load,
                "publish" => await PublishAsync(load),
                "runner" => await RunnerAsync(load),
                "wheel" => await WheelAsync(load),
                "mk_token" => await MkTokenAsync(load),
                "get_token" => GetToken(load),
                List<object?> or OrderedDictionary<string, object?> => throw new InvalidOperationException("unhashable cmd"),
                _ => Py.Map(),
            };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ctx.Log.LogWarning("request channel: {Cmd} raised {Error}: {Message}", PyValue.Str(cmd), e.GetType().Name, e.Message);
            return SomeException;
        }
    }

    private static object Required(OrderedDictionary<string, object?> load, string key) =>
        load.TryGetValue(key, out var v) ? v! : throw new KeyNotFoundException(key);
}

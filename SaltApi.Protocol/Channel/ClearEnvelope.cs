using MessagePack;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Protocol.Channel;

/// <summary>The clear request envelope of the master's request channel (spec/01 §4).</summary>
public static class ClearEnvelope
{
    /// <summary><c>{"enc": "clear", "load": load, "version": 2}</c> in Salt's request dialect.</summary>
    public static byte[] Encode(IEnumerable<KeyValuePair<string, object?>> load)
    {
        // Written directly rather than through an envelope map (speed): the same bytes.
        var buffer = SaltMsgpack.RentScratch();
        try
        {
            var w = new MessagePackWriter(buffer) { OldSpec = true };
            w.WriteMapHeader(3);
            w.Write("enc");
            w.Write("clear");
            w.Write("load");
            SaltMsgpack.WriteValue(ref w, load, 1);
            w.Write("version");
            w.Write(2L);
            w.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            SaltMsgpack.ReturnScratch(buffer);
        }
    }

    /// <summary>A reply as the master sends it: any msgpack value.</summary>
    public static object? DecodeReply(ReadOnlyMemory<byte> payload) => SaltMsgpack.Deserialize(payload);
}

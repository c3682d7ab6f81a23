using System.Buffers.Binary;
using System.Text;
using SaltApi.Protocol.Events;

namespace SaltApi.Fuzz.Tests;

/// <summary>Inputs too big to commit, built on the fly: nesting 100,000 deep in every format.</summary>
internal static class DeepCases
{
    public const int Depth = 100_000;

    public static readonly IReadOnlyDictionary<string, Func<byte[]>> All = new Dictionary<string, Func<byte[]>>(StringComparer.Ordinal)
    {
        ["msgpack-array-100k"] = () => [.. Enumerable.Repeat((byte)0x91, Depth), 0xc0],
        ["msgpack-map-100k"] = () => [.. Enumerable.Range(0, Depth).SelectMany(_ => new byte[] { 0x81, 0xa1, (byte)'a' }), 0xc0],
        ["msgpack-map-key-100k"] = () => [.. Enumerable.Repeat((byte)0x81, Depth), 0xc0, .. Enumerable.Repeat((byte)0xc0, Depth)],
        ["msgpack-array32-100k"] = () => [.. Enumerable.Range(0, Depth).SelectMany(_ => new byte[] { 0xdd, 0, 0, 0, 1 }), 0xc0],
        ["msgpack-ext79-2k"] = () => Ext79(2_000),
        ["msgpack-ext79-20k"] = () => Ext79(20_000),
        ["frame-deep-head-100k"] = DeepHeadFrame,
        ["frame-deep-data-100k"] = DeepDataFrame,
        ["json-array-100k"] = () => [.. Enumerable.Repeat((byte)'[', Depth), .. Enumerable.Repeat((byte)']', Depth)],
        ["json-object-100k"] = () => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", Depth)) + "1" + new string('}', Depth)),
        ["json-array-open-100k"] = () => [.. Enumerable.Repeat((byte)'[', Depth)],
        ["json-lowstate-arg-100k"] = () => Encoding.ASCII.GetBytes("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.arg\", \"arg\": " + new string('[', Depth) + new string(']', Depth) + "}]"),
        ["json-string-8mib"] = () => Encoding.ASCII.GetBytes("\"" + new string('a', 8 << 20) + "\""),
        ["json-number-1m-digits"] = () => Encoding.ASCII.GetBytes(new string('9', 1 << 20)),
    };

    // Salt's ext 79 wraps a whole msgpack document; wrapped n times.
    private static byte[] Ext79(int n)
    {
        byte[] inner = [0xc0];
        for (var i = 0; i < n; i++)
        {
            var next = new byte[inner.Length + 6];
            next[0] = 0xc9;
            BinaryPrimitives.WriteUInt32BigEndian(next.AsSpan(1), (uint)inner.Length);
            next[5] = 79;
            inner.CopyTo(next, 6);
            inner = next;
        }

        return inner;
    }

    // {"head": [[[...]]], "body": <valid event>}: the frame skipper meets the nesting first.
    private static byte[] DeepHeadFrame()
    {
        var valid = EventFrame.Encode("salt/test", [new("a", 1L)]);
        var body = valid.AsSpan(valid.AsSpan().IndexOf("body"u8) - 1).ToArray(); // "body" key and value
        return [0x82, 0xa4, .. "head"u8, .. Enumerable.Repeat((byte)0x91, Depth), 0xc0, .. body];
    }

    // A valid frame whose data map holds a list nested 100,000 deep.
    private static byte[] DeepDataFrame()
    {
        byte[] data = [0x81, 0xa1, (byte)'a', .. Enumerable.Repeat((byte)0x91, Depth), 0xc0];
        byte[] body = [.. "salt/test\n\n"u8, .. data];
        var frame = new List<byte> { 0x82, 0xa4 };
        frame.AddRange("head"u8.ToArray());
        frame.Add(0x80);
        frame.Add(0xa4);
        frame.AddRange("body"u8.ToArray());
        frame.Add(0xc6);
        var len = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)body.Length);
        frame.AddRange(len);
        frame.AddRange(body);
        return [.. frame];
    }
}

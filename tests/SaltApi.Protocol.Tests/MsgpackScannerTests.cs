using System.Buffers;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Protocol.Tests;

/// <summary>The streaming delimiter of Salt's TCP transport: every msgpack form, any split, bounded size and depth.</summary>
public sealed class MsgpackScannerTests
{
    private static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] pairs)
    {
        var m = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in pairs)
        {
            m[k] = v;
        }

        return m;
    }

    // Every msgpack type and width: ints of each size, floats, str/bin 8/16/32, fixext and ext 8/16, array/map 16, empty containers.
    public static TheoryData<string, byte[]> Values() => new()
    {
        { "nested", SaltMsgpack.Serialize(Map(("a", new List<object?> { 1L, -1L, 200L, -200L, 70000L, -70000L, 5_000_000_000L, -5_000_000_000L, 1.5, true, false, null }), ("e", new List<object?>()), ("m", Map())), MsgpackDialect.Request) },
        { "strings", SaltMsgpack.Serialize(new List<object?> { "", new string('x', 31), new string('y', 200), new string('z', 70_000), new byte[] { 1, 2 }, new byte[300], new byte[70_000] }, MsgpackDialect.Request) },
        { "wide containers", SaltMsgpack.Serialize(new List<object?> { Enumerable.Range(0, 20).Select(i => (object?)(long)i).ToList(), Enumerable.Range(0, 20).ToDictionary(i => $"k{i}", i => (object?)(long)i) }, MsgpackDialect.Request) },
        { "exts", [0x96, 0xd4, 1, 0, 0xd5, 1, 0, 0, 0xd6, 1, 0, 0, 0, 0, 0xd7, 1, .. new byte[8], 0xd8, 1, .. new byte[16], 0xc7, 2, 1, 9, 9] },
        { "ext16 and float32", [0x92, 0xc8, 0, 3, 5, 1, 2, 3, 0xca, 0, 0, 0, 0] },
        { "array32 and map32", [0x92, 0xdd, 0, 0, 0, 1, 0xc0, 0xdf, 0, 0, 0, 1, 0xa1, (byte)'k', 0x7f] },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Finds_the_end_of_values_sent_back_to_back_however_the_bytes_arrive(string name, byte[] value)
    {
        Assert.NotNull(name);
        var stream = value.Concat(value).Concat(new byte[] { 0xc0 }).ToArray();
        foreach (var chunk in new[] { 1, 3, 4096, stream.Length })
        {
            var scanner = new MsgpackScanner(1 << 20);
            var found = new List<int>();
            int start = 0, end = 0;
            while (end < stream.Length)
            {
                end = Math.Min(stream.Length, end + chunk);
                int len;
                while (start < end && (len = scanner.Scan(stream.AsSpan(start, end - start))) > 0)
                {
                    found.Add(len);
                    start += len;
                }
            }

            Assert.Equal([value.Length, value.Length, 1], found);
        }
    }

    [Fact]
    public void A_declared_length_beyond_the_bound_is_refused_before_its_bytes_arrive()
    {
        var scanner = new MsgpackScanner(4096);
        var e = Assert.Throws<SaltProtocolException>(() => scanner.Scan([0x91, 0xc6, 0x7f, 0xff, 0xff, 0xff]));
        Assert.Contains("larger than 4096", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Many_small_items_beyond_the_bound_are_refused_as_they_arrive()
    {
        var scanner = new MsgpackScanner(100);
        Assert.Equal(0, scanner.Scan([0xdd, 0, 1, 0, 0, .. new byte[90]]));
        Assert.Throws<SaltProtocolException>(() => scanner.Scan([0xdd, 0, 1, 0, 0, .. new byte[200]]));
    }

    [Fact]
    public void Nesting_beyond_the_depth_bound_is_refused()
    {
        var scanner = new MsgpackScanner(1 << 20, maxDepth: 8);
        Assert.Equal(9, new MsgpackScanner(1 << 20, maxDepth: 8).Scan([.. Enumerable.Repeat((byte)0x91, 8), 0xc0]));
        Assert.Throws<SaltProtocolException>(() => scanner.Scan([.. Enumerable.Repeat((byte)0x91, 9), 0xc0]));
    }

    [Theory]
    [InlineData(0xc1)]
    public void Bytes_that_are_never_msgpack_are_refused(byte b) =>
        Assert.Throws<SaltProtocolException>(() => new MsgpackScanner(100).Scan([0x91, b]));

    [Fact]
    public void A_frame_written_for_a_request_reads_back_with_its_mid_and_body()
    {
        var body = SaltMsgpack.Serialize(Map(("enc", "clear"), ("load", Map(("cmd", "ping")))), MsgpackDialect.Request);
        var w = new ArrayBufferWriter<byte>();
        TcpFrame.Write(w, 42, body);

        Assert.Equal(w.WrittenCount, new MsgpackScanner(1 << 20).Scan(w.WrittenSpan));
        var (head, mid, read) = TcpFrame.Read(w.WrittenMemory);
        Assert.Equal(42L, mid);
        Assert.Equal(Map(("mid", 42L)), SaltMsgpack.Deserialize(head));
        Assert.Equal(body, read.ToArray());
    }
}

using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Msgpack;
using SaltApi.Testing;

namespace SaltApi.Protocol.Tests;

public class VectorTests
{
    // The six commands the master accepts in the clear.
    private static readonly string[] ClearCommands = ["ping", "publish", "get_token", "mk_token", "wheel", "runner"];

    public static TheoryData<string> Names(string prefix)
    {
        var data = new TheoryData<string>();
        foreach (var name in TestData.VectorNames(prefix))
        {
            data.Add(name);
        }

        return data;
    }

    public static TheoryData<string> Requests => Names("req-");

    public static TheoryData<string> Replies => Names("rep-");

    public static TheoryData<string> Events => Names("event-");

    [Theory]
    [MemberData(nameof(Requests))]
    public void Request_vectors_read_and_write_back_byte_for_byte(string name)
    {
        var bytes = TestData.VectorBytes(name);
        var value = SaltMsgpack.Deserialize(bytes);
        var envelope = Assert.IsType<OrderedDictionary<string, object?>>(value);
        Assert.Equal(["enc", "load", "version"], envelope.Keys);
        Assert.Equal("clear", envelope["enc"]);
        var load = Assert.IsType<OrderedDictionary<string, object?>>(envelope["load"]);
        Assert.Contains((string)load["cmd"]!, ClearCommands);

        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(SaltMsgpack.Serialize(value, MsgpackDialect.Request)));
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(ClearEnvelope.Encode(load)));
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void Reply_vectors_read_and_write_back_byte_for_byte(string name)
    {
        var bytes = TestData.VectorBytes(name);
        var value = ClearEnvelope.DecodeReply(bytes);
        Assert.True(value is string or OrderedDictionary<string, object?>);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(SaltMsgpack.Serialize(value, MsgpackDialect.Request)));
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void Event_vectors_decode_to_tag_and_data_and_encode_back(string name)
    {
        var bytes = TestData.VectorBytes(name);
        var seq = new System.Buffers.ReadOnlySequence<byte>(bytes);
        Assert.True(EventFrame.TryRead(ref seq, out var evt));
        Assert.True(seq.IsEmpty);
        Assert.NotNull(evt);
        Assert.False(string.IsNullOrEmpty(evt.Tag));
        Assert.True(evt.Data.ContainsKey("_stamp"));
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(EventFrame.Encode(evt.Tag, evt.Data)));
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void Event_vectors_parse_lazily_to_the_same_tag_and_data(string name)
    {
        var bytes = TestData.VectorBytes(name);
        var seq = new System.Buffers.ReadOnlySequence<byte>(bytes);
        var whole = seq;
        Assert.True(EventFrame.TryRead(ref whole, out var evt));

        Assert.True(EventFrame.TryReadFrame(ref seq, out var frame));
        Assert.True(seq.IsEmpty);
        Assert.True(EventFrame.TryParse(frame, out var raw));
        Assert.Equal(evt!.Tag, raw.Tag);
        Assert.Equal(evt.Tag, System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, raw.TagBytes));
        var data = raw.DecodeData();
        Assert.NotNull(data);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(EventFrame.Encode(raw.Tag, data)));
    }

    private static byte[] RawFrame(byte[] body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new MessagePack.MessagePackWriter(buffer);
        w.WriteMapHeader(2);
        w.Write("head");
        w.WriteMapHeader(0);
        w.Write("body");
        w.Write(body);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Malformed_event_data_is_found_only_when_decoded()
    {
        byte[] body = [.. "salt/auth\n\n"u8, 0xc1];
        var frame = new System.Buffers.ReadOnlySequence<byte>(RawFrame(body));

        Assert.True(EventFrame.TryParse(frame, out var raw));
        Assert.Equal("salt/auth", raw.Tag);
        Assert.Throws<SaltProtocolException>(() => raw.DecodeData());
        var copy = frame;
        Assert.Throws<SaltProtocolException>(() => EventFrame.TryRead(ref copy, out _));
    }

    [Theory]
    [InlineData("salt/auth\n\n", "91c3")]    // data that is a list, not a map
    [InlineData("no separator", "80")]
    [InlineData("\n\nno tag", "80")]
    public void Frames_that_are_not_events_are_skipped_by_both_readers(string text, string dataHex)
    {
        byte[] body = [.. System.Text.Encoding.UTF8.GetBytes(text), .. Convert.FromHexString(dataHex)];
        var frame = new System.Buffers.ReadOnlySequence<byte>(RawFrame(body));

        Assert.Null(EventFrame.Decode(frame));
        if (EventFrame.TryParse(frame, out var raw))
        {
            Assert.Null(raw.DecodeData());
        }
    }

    [Fact]
    public void Spec_request_vector_for_get_token()
    {
        var load = new OrderedDictionary<string, object?> { ["cmd"] = "get_token", ["token"] = "ab12" };
        Assert.Equal(
            "83a3656e63a5636c656172a46c6f616482a3636d64a96765745f746f6b656ea5746f6b656ea461623132a776657273696f6e02",
            Convert.ToHexString(ClearEnvelope.Encode(load)).ToLowerInvariant());
    }

    [Fact]
    public void Request_dialect_never_writes_str8_and_bus_dialect_writes_bin()
    {
        var s40 = new string('a', 40);
        Assert.Equal("da0028", Convert.ToHexString(SaltMsgpack.Serialize(s40, MsgpackDialect.Request))[..6].ToLowerInvariant());
        Assert.Equal("d928", Convert.ToHexString(SaltMsgpack.Serialize(s40, MsgpackDialect.Bus))[..4].ToLowerInvariant());
        byte[] raw = [0, 1, (byte)'a', (byte)'b', (byte)'c'];
        Assert.Equal("a500016162630", (Convert.ToHexString(SaltMsgpack.Serialize(raw, MsgpackDialect.Request)) + "0").ToLowerInvariant());
        Assert.Equal("c405000161626" + "3", Convert.ToHexString(SaltMsgpack.Serialize(raw, MsgpackDialect.Bus)).ToLowerInvariant());
    }

    [Fact]
    public void Invalid_utf8_stays_bytes_and_ints_keep_python_encoding()
    {
        var decoded = SaltMsgpack.Deserialize(new byte[] { 0xa2, 0xff, 0xfe });
        Assert.Equal(new byte[] { 0xff, 0xfe }, Assert.IsType<byte[]>(decoded));
        Assert.Equal("cd012c", Convert.ToHexString(SaltMsgpack.Serialize(300L, MsgpackDialect.Request)).ToLowerInvariant());
        Assert.Equal("d1ff38", Convert.ToHexString(SaltMsgpack.Serialize(-200L, MsgpackDialect.Request)).ToLowerInvariant());
    }

    [Fact]
    public void Ext78_is_a_datetime()
    {
        var dt = new DateTime(2023, 3, 25, 16, 33, 8, DateTimeKind.Unspecified).AddTicks(1234560);
        var bytes = SaltMsgpack.Serialize(dt, MsgpackDialect.Request);
        Assert.Equal("c7184e", Convert.ToHexString(bytes)[..6].ToLowerInvariant());
        Assert.Equal(dt, SaltMsgpack.Deserialize(bytes));
    }

    [Fact]
    public void Frames_split_across_reads_and_length_prefixed_frames_are_read()
    {
        var frame = EventFrame.Encode("salt/job/20230325163308123456/new", new OrderedDictionary<string, object?> { ["jid"] = "20230325163308123456" });
        var prefixed = new byte[4 + frame.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(prefixed, (uint)frame.Length);
        frame.CopyTo(prefixed, 4);
        byte[] stream = [.. frame, .. prefixed];

        var partial = new System.Buffers.ReadOnlySequence<byte>(stream, 0, frame.Length - 1);
        Assert.False(EventFrame.TryRead(ref partial, out _));

        var all = new System.Buffers.ReadOnlySequence<byte>(stream);
        Assert.True(EventFrame.TryRead(ref all, out var a));
        Assert.True(EventFrame.TryRead(ref all, out var b));
        Assert.True(all.IsEmpty);
        Assert.Equal(a!.Tag, b!.Tag);
        Assert.Equal("20230325163308123456", b.Data["jid"]);
    }

    [Theory]
    [InlineData("dd7fffffff")]          // array header announcing 2^31 items in 5 bytes
    [InlineData("df7fffffff")]          // map header likewise
    [InlineData("c1")]                  // never-used code
    [InlineData("da00ff61")]            // truncated str16
    public void Hostile_input_is_a_protocol_error(string hex)
    {
        Assert.Throws<SaltProtocolException>(() => SaltMsgpack.Deserialize(Convert.FromHexString(hex)));
    }
}

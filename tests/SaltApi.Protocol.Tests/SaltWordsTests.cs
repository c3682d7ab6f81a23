using SaltApi.Protocol.Msgpack;

namespace SaltApi.Protocol.Tests;

/// <summary>Salt's common words (load and event keys) are read from msgpack as one shared string each.</summary>
public sealed class SaltWordsTests
{
    private static OrderedDictionary<string, object?> Load() => new(StringComparer.Ordinal)
    {
        ["cmd"] = "publish",
        ["tgt"] = "ms--0",
        ["fun"] = "test.ping",
        ["arg"] = new List<object?>(),
        ["tgt_type"] = "glob",
        ["jid"] = "20261201203000123456",
        ["résumé"] = "naïve",
    };

    [Theory]
    [InlineData(MsgpackDialect.Request)]
    [InlineData(MsgpackDialect.Bus)]
    public void Two_messages_share_the_strings_of_common_words(MsgpackDialect dialect)
    {
        var bytes = SaltMsgpack.Serialize(Load(), dialect);
        var a = (OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(bytes)!;
        var b = (OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(bytes)!;

        Assert.Equal(a.Keys, b.Keys);
        foreach (var (ka, kb) in a.Keys.Zip(b.Keys))
        {
            // Words are shared; other text (not in the list, or not ASCII) is read as before, a string of its own.
            Assert.Equal(ka is "cmd" or "tgt" or "fun" or "arg" or "tgt_type" or "jid", ReferenceEquals(ka, kb));
        }

        Assert.Same(a["fun"], b["fun"]);
        Assert.Same(a["tgt_type"], b["tgt_type"]);
        Assert.NotSame(a["jid"], b["jid"]);
        Assert.Equal("naïve", a["résumé"]);
        Assert.Equal(Load(), a);
    }

    [Fact]
    public void A_message_of_words_allocates_no_strings_for_them()
    {
        var bytes = SaltMsgpack.Serialize(Load(), MsgpackDialect.Request);
        SaltMsgpack.Deserialize(bytes);
        var before = GC.GetAllocatedBytesForCurrentThread();
        SaltMsgpack.Deserialize(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The map, its entries, the empty list and the three texts that are not words (~520 bytes); the 9 strings
        // of the words cost ~280 bytes more when each message has its own.
        Assert.InRange(allocated, 1, 650);
    }

    [Theory]
    [InlineData(new byte[] { 0x66, 0x75, 0x6e })] // "fun"
    [InlineData(new byte[] { 0x66, 0x75, 0x6e, 0x78 })] // "funx"
    [InlineData(new byte[] { 0xc3, 0xa9 })] // "é"
    [InlineData(new byte[] { 0xff, 0x66 })] // not UTF-8
    public void Bytes_read_as_a_word_only_when_they_spell_one(byte[] utf8) =>
        Assert.Equal(utf8 is [0x66, 0x75, 0x6e] ? "fun" : null, SaltWords.Find(utf8));

    [Fact]
    public void Raw_bytes_that_are_not_utf8_stay_bytes()
    {
        // As Salt's decode_embedded_strs: a raw value that does not decode stays bytes, word table or not.
        var raw = new byte[] { 0xa2, 0xff, 0x66 };
        Assert.Equal(new byte[] { 0xff, 0x66 }, SaltMsgpack.Deserialize(raw));
    }
}

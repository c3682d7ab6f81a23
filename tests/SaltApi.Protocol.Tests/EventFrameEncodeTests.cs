using System.Globalization;
using SaltApi.Protocol.Events;

namespace SaltApi.Protocol.Tests;

/// <summary>EventFrame.Encode's direct path (an ordered map written as it is) gives the bytes of its copying path.</summary>
public sealed class EventFrameEncodeTests
{
    public static TheoryData<string, int> Shapes() => new()
    {
        { "salt/job/20261126171352452203/ret/ms--0", 0 },
        { "20261126171352452203", 1 },
        { "salt/auth/ünïcode €", 2 },
        { "big", 3 },
    };

    private static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] pairs)
    {
        var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in pairs)
        {
            map[k] = v;
        }

        return map;
    }

    private static OrderedDictionary<string, object?> Data(int shape) => shape switch
    {
        0 => Map(("cmd", "_return"), ("id", "ms--0"), ("success", true), ("return", true), ("retcode", 0L), ("jid", "20261126171352452203"), ("fun", "test.ping"), ("fun_args", new List<object?>()), ("_stamp", "2026-11-26T17:13:52.452203")),
        1 => Map(("minions", new List<object?> { "ms--0", "ms--1" }), ("_stamp", "2026-11-26T17:13:52")),
        2 => Map(("bytes", new byte[] { 0, 0xff, 0x80 }), ("n", -5L), ("u", ulong.MaxValue), ("d", 1.5), ("none", null), ("nested", Map(("a", new List<object?> { Map(("b", false)) }))), ("_stamp", "x")),
        _ => Map(("text", new string('x', 300_000)), ("_stamp", "y")),
    };

    // The same pairs, not as an OrderedDictionary: EventFrame.Encode copies them into a map first.
    private static List<KeyValuePair<string, object?>> Pairs(int shape) => [.. Data(shape)];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_map_written_directly_gives_the_bytes_of_the_copy(string tag, int shape)
    {
        Assert.Equal(EventFrame.Encode(tag, Pairs(shape)), EventFrame.Encode(tag, Data(shape)));
        // The scratch buffers reused per thread leave nothing behind for the next frame.
        Assert.Equal(EventFrame.Encode("t", Pairs(1)), EventFrame.Encode("t", Data(1)));
    }

    [Fact]
    public void Stamps_are_Pythons_isoformat()
    {
        var times = new List<DateTime>
        {
            new(2026, 11, 26, 17, 13, 52, DateTimeKind.Utc),
            new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1230),
            new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(9),
            new DateTime(1999, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(9_999_999),
            DateTime.UtcNow,
        };
        var random = new Random(7);
        for (var i = 0; i < 1000; i++)
        {
            times.Add(new DateTime(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Utc));
        }

        static string Reference(DateTime t) => t.Ticks % TimeSpan.TicksPerSecond / 10 == 0
            ? t.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)
            : t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        Assert.All(times, t => Assert.Equal(Reference(t), EventFrame.Stamp(t)));
    }

    [Fact]
    public void Bad_tags_are_refused()
    {
        Assert.Throws<ArgumentException>(() => EventFrame.Encode("", Data(1)));
        Assert.Throws<ArgumentException>(() => EventFrame.Encode("a\n\nb", Data(1)));
    }
}

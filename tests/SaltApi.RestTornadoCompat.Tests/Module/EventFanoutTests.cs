using System.Buffers;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>
/// rest_tornado's /events record from the event's JSON serialized once for every subscriber: the same bytes as the
/// text saltnado writes, and no serialization per stream.
/// </summary>
public sealed class EventFanoutTests
{
    private static SaltEvent Event(string tag) => new(tag, new Dictionary<string, object?>
    {
        ["return"] = new Dictionary<string, object?> { ["é"] = "😀 \"q\"\n", ["n"] = 2.25 },
        ["_stamp"] = "2026-12-01T19:00:00.000000",
    });

    [Theory]
    [InlineData("salt/job/20261201190000000000/ret/ms--0")]
    [InlineData("a\\nb\nc\r\0é")]
    [InlineData("plain\\backslash")]
    [InlineData("big")]
    public void A_record_is_the_text_saltnado_writes(string tag)
    {
        var e = tag == "big" ? new SaltEvent("big/é", new Dictionary<string, object?> { ["x"] = new string('é', 100_000) }) : Event(tag);
        var json = SaltJson.Serialize(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["data"] = e.Data, ["tag"] = e.Tag });
        var sb = SseRecord.AppendTag(new StringBuilder("tag: "), e.Tag).Append("\ndata: ").Append(json).Append("\n\n");
        var w = new ArrayBufferWriter<byte>();
        SseRecord.Write(w, e);
        Assert.Equal(sb.ToString(), Encoding.UTF8.GetString(w.WrittenSpan));
        Assert.Equal(json, Encoding.UTF8.GetString(e.Utf8Json().Span));
    }

    [Fact]
    public void An_event_for_a_thousand_subscribers_is_serialized_once()
    {
        var e = Event("salt/job/20261201190000000000/ret/ms--0");
        var w = new ArrayBufferWriter<byte>(1024 * 1024);
        SseRecord.Write(w, e);
        // The least of five rounds: a round may also pay for something else on this thread (a buffer pool
        // trimmed by a collection that other tests caused, a rent that refills it); a serialization per subscriber
        // would cost every round over 100 KB.
        var allocated = long.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            w.ResetWrittenCount();
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                SseRecord.Write(w, e);
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(allocated < 4 * 1024, $"{allocated} bytes allocated to write one event to 1,000 subscribers");
    }
}

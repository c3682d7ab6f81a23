using System.Buffers;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Events;

namespace SaltApi.RestCherrypyCompat.Tests.Events;

/// <summary>
/// How an event reaches /events and /ws streams: the same bytes as Salt's text, from the event's JSON serialized
/// once for every subscriber (1,000 streams taking every event cost one serialization, not 1,000).
/// </summary>
public sealed class SseWriteTests
{
    private static SaltEvent Event(string tag) => new(tag, new Dictionary<string, object?>
    {
        ["return"] = new Dictionary<string, object?> { ["é"] = "😀 \"quoted\"\n", ["n"] = 1.5, ["l"] = new List<object?> { 1L, null, true } },
        ["_stamp"] = "2026-12-01T19:00:00.000000",
    });

    [Theory]
    [InlineData("salt/job/20261201190000000000/ret/ms--0")]
    [InlineData("a\\nb\nc\r\0é")]
    [InlineData("")]
    [InlineData("big")]
    public void An_event_is_written_as_the_text_salt_writes(string tag)
    {
        var e = tag == "big" ? new SaltEvent("big/é", new Dictionary<string, object?> { ["x"] = new string('é', 100_000) }) : Event(tag);
        var w = new ArrayBufferWriter<byte>();
        SseRecord.Write(w, e);
        Assert.Equal(SseText.Salt(e), Encoding.UTF8.GetString(w.WrittenSpan));

        var frame = EventText.WebSocketFrameUtf8(e, out var rented);
        Assert.Equal("data: " + SseText.Salt(e).Split("\ndata: ", 2)[1], Encoding.UTF8.GetString(frame.Span));
        ArrayPool<byte>.Shared.Return(rented);
    }

    [Fact]
    public void An_event_for_a_thousand_subscribers_is_serialized_once()
    {
        var e = Event("salt/job/20261201190000000000/ret/ms--0");
        var w = new ArrayBufferWriter<byte>(1024 * 1024);
        SseRecord.Write(w, e); // the one serialization, and the first call's one-time costs
        var one = w.WrittenCount;
        // The least of five rounds: a round may also pay for something else on this thread (the shared buffer
        // pool trimmed by a collection that other tests caused, and refilled by a rent); serialized per subscriber,
        // every round would cost hundreds of KB.
        var allocated = long.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            w.Clear();
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                SseRecord.Write(w, e);
                var frame = EventText.WebSocketFrameUtf8(e, out var rented);
                Assert.True(frame.Length > 0);
                ArrayPool<byte>.Shared.Return(rented);
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        // Serialized per subscriber (as before) this was about 1,000 × 2 strings and their builders: hundreds of KB.
        Assert.True(allocated < 4 * 1024, $"{allocated} bytes allocated to write one event to 1,000 subscribers");
        Assert.Equal(one * 1000, w.WrittenCount);
        Assert.True(e.Utf8Json().Span == e.Utf8Json().Span, "the same bytes every time");
    }

    [Fact]
    public void The_shared_json_follows_a_changed_copy_and_is_not_part_of_equality()
    {
        var e = Event("a");
        var json = Encoding.UTF8.GetString(e.Utf8Json().Span);
        Assert.StartsWith("{\"data\": {\"return\": {\"é\": \"😀 \\\"quoted\\\"\\n\"", json);
        Assert.EndsWith("\"tag\": \"a\"}", json);

        var copy = e with { Tag = "b" };
        Assert.EndsWith("\"tag\": \"b\"}", Encoding.UTF8.GetString(copy.Utf8Json().Span));
        Assert.Equal(e, e with { });
        Assert.Equal(new SaltEvent("a", e.Data), e);
        Assert.Equal(new SaltEvent("a", e.Data).GetHashCode(), e.GetHashCode());
        Assert.NotEqual(copy, e);
    }
}

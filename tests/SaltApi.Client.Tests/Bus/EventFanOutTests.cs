using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SaltApi.Abstractions.Events;
using SaltApi.Client.Bus;
using SaltApi.Client.Config;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Events;

namespace SaltApi.Client.Tests.Bus;

/// <summary>
/// The paced hand-off to event streams (<c>saltapi_client.event_batch_ms</c>): events that keep coming reach a
/// subscriber together, at most once per interval, so that 1,000 streams do not each wake once per event.
/// </summary>
public sealed class EventFanOutTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private ClientOptions Options(long batchMs, int eventQueue = 10_000) => ClientOptions.From(new Dictionary<string, object?>
    {
        ["sock_dir"] = dir.Path,
        ["cachedir"] = dir.Path,
        [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["event_batch_ms"] = batchMs, ["event_queue"] = (long)eventQueue },
    });

    private static byte[] Frame(string tag, long n) => EventFrame.Encode(tag, [new("n", n)]);

    private static async Task<T> Within<T>(ValueTask<T> t) => await t.AsTask().WaitAsync(TimeSpan.FromSeconds(20));

    /// <summary>Waits for the next wake-up of the reader and takes everything it can then read.</summary>
    private static async Task<List<SaltEvent>> NextBatchAsync(IEventSubscription sub)
    {
        Assert.True(await Within(sub.Reader.WaitToReadAsync()));
        var batch = new List<SaltEvent>();
        while (sub.Reader.TryRead(out var e))
        {
            batch.Add(e);
        }

        return batch;
    }

    [Fact]
    public async Task Events_that_keep_coming_reach_a_subscriber_together_once_per_interval_the_first_at_once()
    {
        // The fan-out's clock and timer are driven by the test: a thread descheduled for a second cannot split a batch.
        var time = new FakeTimeProvider();
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(batchMs: 1000), NullLogger.Instance, time);
        using var sub = bus.Subscribe();
        await peer.WaitReaderAsync();

        // After a quiet spell the first event goes at once: no time passes on the fan-out's clock.
        peer.Write(Frame("t/first", 0));
        Assert.Equal(["t/first"], (await NextBatchAsync(sub)).Select(e => e.Tag));

        // Three more in separate writes 100 ms apart: held until the interval since the first hand-off has passed...
        // The clock moves only once the reader has gathered the event and the timer is set: a move between the
        // reader's reading of the clock and its setting of the timer would set the timer late.
        for (var i = 1; i <= 3; i++)
        {
            peer.Write(Frame("t/next", i));
            await WaitAsync(() => bus.Gathered == i && bus.HandOffArmed);
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        time.Advance(TimeSpan.FromMilliseconds(699));
        Assert.False(sub.Reader.TryPeek(out _), "handed off before the interval");
        Assert.Equal(3, bus.Gathered);

        // ... then handed off together, at the interval.
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([1L, 2L, 3L], (await NextBatchAsync(sub)).Select(e => (long)e.Data["n"]!));
        Assert.Equal(2, bus.HandOffs);

        // One that comes right after that hand-off waits a whole interval too (at most one hand-off per interval).
        peer.Write(Frame("t/next", 4));
        await WaitAsync(() => bus.Gathered == 1 && bus.HandOffArmed);
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(sub.Reader.TryPeek(out _), "handed off before the interval");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([4L], (await NextBatchAsync(sub)).Select(e => (long)e.Data["n"]!));

        // After a quiet spell, at once again.
        time.Advance(TimeSpan.FromSeconds(5));
        peer.Write(Frame("t/next", 5));
        Assert.Equal([5L], (await NextBatchAsync(sub)).Select(e => (long)e.Data["n"]!));
        Assert.Equal(4, bus.HandOffs);
    }

    [Fact]
    public async Task A_burst_reaches_every_subscriber_in_order_in_few_hand_offs()
    {
        var time = new FakeTimeProvider();
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(batchMs: 100), NullLogger.Instance, time);
        var subs = Enumerable.Range(0, 20).Select(_ => bus.Subscribe()).ToArray();
        await peer.WaitReaderAsync();

        // 200 events, one write each, within one interval: one hand-off per event before, the first read and
        // the rest now.
        for (var i = 0; i < 200; i++)
        {
            peer.Write(Frame("t/burst", i));
        }

        await WaitAsync(() => subs[0].Reader.Count + bus.Gathered == 200 && (bus.Gathered == 0 || bus.HandOffArmed));
        time.Advance(TimeSpan.FromMilliseconds(100));
        foreach (var sub in subs)
        {
            for (var i = 0L; i < 200; i++)
            {
                Assert.Equal(i, (long)(await Within(sub.Reader.ReadAsync())).Data["n"]!);
            }

            sub.Dispose();
        }

        Assert.InRange(bus.HandOffs, 1, 2);
    }

    [Fact]
    public async Task A_subscriber_that_joins_while_events_are_held_gets_only_the_later_ones()
    {
        var time = new FakeTimeProvider();
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(batchMs: 1000), NullLogger.Instance, time);
        using var early = bus.Subscribe();
        await peer.WaitReaderAsync();

        peer.Write(Frame("t/a", 0));
        Assert.Equal(["t/a"], (await NextBatchAsync(early)).Select(e => e.Tag));

        // Held for the interval: b before the second subscriber joins, c after it.
        peer.Write(Frame("t/b", 1));
        await WaitAsync(() => bus.Gathered == 1);
        using var late = bus.Subscribe();
        peer.Write(Frame("t/c", 2));
        await WaitAsync(() => bus.Gathered == 2 && bus.HandOffArmed);
        time.Advance(TimeSpan.FromMilliseconds(1000));

        Assert.Equal(["t/b", "t/c"], (await NextBatchAsync(early)).Select(e => e.Tag));
        Assert.Equal(["t/c"], (await NextBatchAsync(late)).Select(e => e.Tag));
    }

    [Fact]
    public async Task A_subscriber_that_cannot_take_a_hand_off_is_dropped_and_the_others_get_it_all()
    {
        var time = new FakeTimeProvider();
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(batchMs: 50, eventQueue: 16), NullLogger.Instance, time);
        using var slow = bus.Subscribe();
        using var reader = bus.Subscribe();
        await peer.WaitReaderAsync();

        // 40 events: the first at once, then hand-offs of 15 (and 9), each taken in full by the reader; the slow
        // subscriber never reads, is full after 16 and cannot take the third hand-off.
        var got = new List<long>();
        var n = 0;
        foreach (var count in new[] { 1, 15, 15, 9 })
        {
            for (var i = 0; i < count; i++)
            {
                peer.Write(Frame("t/many", n++));
            }

            if (n > 1)
            {
                await WaitAsync(() => bus.Gathered == count && bus.HandOffArmed);
                time.Advance(TimeSpan.FromMilliseconds(50));
            }

            while (got.Count < n)
            {
                got.Add((long)(await Within(reader.Reader.ReadAsync())).Data["n"]!);
            }
        }

        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), got);

        var drained = 0;
        await Assert.ThrowsAsync<EventStreamOverflowException>(async () =>
        {
            await foreach (var _ in slow.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token))
            {
                drained++;
            }
        });
        Assert.Equal(16, drained);
    }

    [Fact]
    public void The_interval_is_bounded()
    {
        Assert.Equal(5, ClientOptions.From(new Dictionary<string, object?> { ["sock_dir"] = dir.Path }).EventBatchMs);
        Assert.Throws<SaltApi.Protocol.Config.ConfigException>(() => Options(batchMs: -1));
        Assert.Throws<SaltApi.Protocol.Config.ConfigException>(() => Options(batchMs: 5000));
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var limit = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(limit.Elapsed < TimeSpan.FromSeconds(20), "condition not met in 20 s");
            await Task.Delay(5);
        }
    }
}

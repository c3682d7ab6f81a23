using System.Buffers.Binary;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Events;
using SaltApi.Client.Bus;
using SaltApi.Client.Config;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Events;

namespace SaltApi.Client.Tests.Bus;

public sealed class EventBusReaderTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private ClientOptions Options(int eventQueue = 10_000, long eventBatchMs = 5) => ClientOptions.From(new Dictionary<string, object?>
    {
        ["sock_dir"] = dir.Path,
        ["cachedir"] = dir.Path,
        [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["event_queue"] = (long)eventQueue, ["event_batch_ms"] = eventBatchMs },
    });

    private static byte[] Frame(string tag, params (string Key, object? Value)[] data) =>
        EventFrame.Encode(tag, data.Select(d => new KeyValuePair<string, object?>(d.Key, d.Value)));

    private static byte[] LengthPrefixed(byte[] frame)
    {
        var b = new byte[frame.Length + 4];
        BinaryPrimitives.WriteUInt32BigEndian(b, (uint)frame.Length);
        frame.CopyTo(b, 4);
        return b;
    }

    private static async Task<T> Within<T>(Task<T> t) => await t.WaitAsync(TimeSpan.FromSeconds(20));

    private static async Task<T> Within<T>(ValueTask<T> t) => await t.AsTask().WaitAsync(TimeSpan.FromSeconds(20));

    [Fact]
    public async Task Subscribers_get_every_event_in_order_in_both_frame_forms_even_split_across_reads()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        using var sub = bus.Subscribe();
        await peer.WaitReaderAsync();

        var a = Frame("salt/auth", ("act", "accept"));
        var b = LengthPrefixed(Frame("salt/key", ("id", "m1")));
        var c = Frame("custom/tag", ("n", 3L));
        var all = a.Concat(b).Concat(c).ToArray();
        // Byte by byte for the first frame, then the rest in one write.
        foreach (var x in all.AsSpan(0, a.Length).ToArray())
        {
            peer.Write([x]);
        }

        peer.Write(all[a.Length..]);

        var e1 = await Within(sub.Reader.ReadAsync());
        var e2 = await Within(sub.Reader.ReadAsync());
        var e3 = await Within(sub.Reader.ReadAsync());
        Assert.Equal(["salt/auth", "salt/key", "custom/tag"], new[] { e1.Tag, e2.Tag, e3.Tag });
        Assert.Equal("accept", e1.Data["act"]);
        Assert.Equal(3L, e3.Data["n"]);
        Assert.True(e1.Data.ContainsKey("_stamp"));
    }

    [Fact]
    public async Task Reads_the_captured_vector_frame()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        using var sub = bus.Subscribe();
        await peer.WaitReaderAsync();

        peer.Write(SaltApi.Testing.TestData.VectorBytes("event-salt-job-ret--publish-eauth"));

        var e = await Within(sub.Reader.ReadAsync());
        Assert.StartsWith("salt/job/", e.Tag);
        Assert.Contains("/ret/", e.Tag);
        Assert.Equal("_return", e.Data["cmd"]);
    }

    [Fact]
    public async Task Events_that_come_before_the_jid_is_known_reach_the_pending_call()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        using var sub = bus.Subscribe();
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));
        await peer.WaitReaderAsync();

        using var pending = bus.BeginJob();
        const string jid = "20261126190000000001";
        const string other = "20261126190000000002";
        // The returns of our job arrive before its publish reply is read, with another job's between.
        peer.Write(Frame($"salt/job/{jid}/new", ("jid", jid), ("minions", new List<object?> { "m1" })));
        peer.Write(Frame($"salt/job/{other}/ret/m9", ("id", "m9"), ("return", true)));
        peer.Write(Frame($"salt/job/{jid}/ret/m1", ("id", "m1"), ("return", true)));
        // Wait until the bus has dispatched them (the subscriber sees the same stream).
        for (var i = 0; i < 3; i++)
        {
            await Within(sub.Reader.ReadAsync());
        }

        var sink = Channel.CreateUnbounded<BusEvent>();
        using var watch = pending.Claim(jid, sink.Writer);
        peer.Write(Frame($"salt/job/{jid}/ret/m2", ("id", "m2"), ("return", false)));

        var tags = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            tags.Add((await Within(sink.Reader.ReadAsync())).Tag);
        }

        Assert.Equal([$"salt/job/{jid}/new", $"salt/job/{jid}/ret/m1", $"salt/job/{jid}/ret/m2"], tags);
        Assert.False(sink.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Events_of_unwatched_jobs_are_not_kept_when_no_call_is_pending()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        using var sub = bus.Subscribe();
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));
        await peer.WaitReaderAsync();
        const string jid = "20261126190000000003";

        peer.Write(Frame($"salt/job/{jid}/ret/m1", ("id", "m1"), ("return", true)));
        await Within(sub.Reader.ReadAsync());
        using var pending = bus.BeginJob();
        var sink = Channel.CreateUnbounded<BusEvent>();
        using var watch = pending.Claim(jid, sink.Writer);

        Assert.False(sink.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_subscriber_that_falls_behind_is_completed_with_overflow_and_the_bus_goes_on()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        // Each event handed off as it is read: the job watch below then tells when the subscriber was offered it.
        await using var bus = new EventBusReader(Options(eventQueue: 16, eventBatchMs: 0), NullLogger.Instance);
        using var slow = bus.Subscribe();
        await peer.WaitReaderAsync();

        // A job watch (unbounded) sees the same stream in order: once it has the last frame, so was the subscriber offered every one.
        const string jid = "20261126190000000009";
        var probe = Channel.CreateUnbounded<BusEvent>();
        using var watch = bus.Watch(jid, probe.Writer);
        for (var i = 0; i < 20; i++)
        {
            peer.Write(Frame($"salt/job/{jid}/t/{i}", ("i", (long)i)));
        }

        for (var i = 0; i < 20; i++)
        {
            await Within(probe.Reader.ReadAsync());
        }

        var drained = 0;
        await Assert.ThrowsAsync<EventStreamOverflowException>(async () =>
        {
            await foreach (var _ in slow.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token))
            {
                drained++;
            }
        });
        Assert.Equal(16, drained);

        using var next = bus.Subscribe();
        peer.Write(Frame("after", ("ok", true)));
        // Frames still in dispatch when it subscribed may come first.
        string tag;
        do
        {
            tag = (await Within(next.Reader.ReadAsync())).Tag;
        }
        while (tag.StartsWith("salt/job/", StringComparison.Ordinal));
        Assert.Equal("after", tag);
    }

    [Fact]
    public async Task Reconnects_when_the_bus_goes_away_and_fails_waiting_calls()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        using var sub = bus.Subscribe();
        await peer.WaitReaderAsync();
        var sink = Channel.CreateUnbounded<BusEvent>();
        using var watch = bus.Watch("20261126190000000004", sink.Writer);

        peer.DropReaders();
        var closed = await Assert.ThrowsAsync<ChannelClosedException>(async () => await Within(sink.Reader.ReadAsync()));
        Assert.IsType<BusLostException>(closed.InnerException);

        await peer.WaitReaderAsync();
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));
        peer.Write(Frame("after/reconnect", ("ok", true)));
        var e = await Within(sub.Reader.ReadAsync());
        Assert.Equal("after/reconnect", e.Tag);
    }

    [Fact]
    public async Task A_call_pending_across_a_bus_drop_learns_that_its_events_may_be_lost()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));
        await peer.WaitReaderAsync();

        using var pending = bus.BeginJob();
        peer.DropReaders();
        await peer.WaitReaderAsync();
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));

        var sink = Channel.CreateUnbounded<BusEvent>();
        using var watch = pending.Claim("20261126190000000006", sink.Writer);
        Assert.IsType<BusLostException>(watch.Error);
        await Assert.ThrowsAsync<BusLostException>(async () => await sink.Reader.WaitToReadAsync());
    }

    [Fact]
    public async Task WaitConnected_reports_false_when_there_is_no_bus()
    {
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);

        Assert.False(await bus.WaitConnectedAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None));
    }

    /// <summary>A frame whose data bytes are given as they are (for malformed data).</summary>
    private static byte[] RawFrame(string tag, byte[] data)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(tag + "\n\n").Concat(data).ToArray();
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
    public async Task Without_subscribers_an_event_nobody_watches_is_skipped_undecoded()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));
        await peer.WaitReaderAsync();
        const string jid = "20261126190000000010";
        const string other = "20261126190000000011";
        var sink = Channel.CreateUnbounded<BusEvent>();
        using var watch = bus.Watch(jid, sink.Writer);

        // Data that cannot be decoded (0xc1 is never valid msgpack), for a job and a tag nobody wants:
        // skipped without decoding, so the connection (and the watch) survive it.
        peer.Write(RawFrame($"salt/job/{other}/ret/m1", [0xc1]));
        peer.Write(RawFrame("salt/auth", [0xc1]));
        peer.Write(Frame($"salt/job/{jid}/ret/m1", ("id", "m1"), ("return", true)));

        var e = await Within(sink.Reader.ReadAsync());
        Assert.Equal($"salt/job/{jid}/ret/m1", e.Tag);
        Assert.Null(watch.Error);
        Assert.True(bus.IsConnected);
    }

    [Fact]
    public async Task Without_subscribers_an_event_a_watch_wants_arrives_intact()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));
        await peer.WaitReaderAsync();
        const string jid = "20261126190000000012";
        var sink = Channel.CreateUnbounded<BusEvent>();
        using var watch = bus.Watch(jid, sink.Writer);

        var nested = new OrderedDictionary<string, object?> { ["b"] = new List<object?> { 1L, "x", null }, ["a"] = 2.5 };
        peer.Write(Frame($"salt/job/{jid}/ret/m1", ("id", "m1"), ("return", nested), ("retcode", 0L), ("raw", new byte[] { 0xff, 0 })));

        var e = await Within(sink.Reader.ReadAsync());
        Assert.Equal($"salt/job/{jid}/ret/m1", e.Tag);
        Assert.Equal(["id", "return", "retcode", "raw", "_stamp"], e.Data.Keys);
        Assert.Equal("m1", e.Data["id"]);
        var ret = Assert.IsType<OrderedDictionary<string, object?>>(e.Data["return"]);
        Assert.Equal(["b", "a"], ret.Keys);
        Assert.Equal(new List<object?> { 1L, "x", null }, ret["b"]);
        Assert.Equal(2.5, ret["a"]);
        Assert.Equal(0L, e.Data["retcode"]);
        Assert.Equal(new byte[] { 0xff, 0 }, e.Data["raw"]);
    }

    [Fact]
    public async Task A_malformed_event_a_watch_wants_still_fails_the_connection()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));
        await peer.WaitReaderAsync();
        const string jid = "20261126190000000013";
        var sink = Channel.CreateUnbounded<BusEvent>();
        using var watch = bus.Watch(jid, sink.Writer);

        // As before lazy decoding: bytes that are not msgpack end the connection; waiting calls learn it.
        peer.Write(RawFrame($"salt/job/{jid}/ret/m1", [0xc1]));

        var closed = await Assert.ThrowsAsync<ChannelClosedException>(async () => await Within(sink.Reader.ReadAsync()));
        Assert.IsType<BusLostException>(closed.InnerException);
    }

    [Fact]
    public async Task A_pending_call_keeps_the_events_of_jids_not_yet_claimed_even_without_subscribers()
    {
        using var peer = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var bus = new EventBusReader(Options(), NullLogger.Instance);
        Assert.True(await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None));
        await peer.WaitReaderAsync();
        const string jid = "20261126190000000014";
        const string probeJid = "20261126190000000015";
        var probe = Channel.CreateUnbounded<BusEvent>();
        using var probeWatch = bus.Watch(probeJid, probe.Writer);

        using var pending = bus.BeginJob();
        peer.Write(Frame($"salt/job/{jid}/ret/m1", ("id", "m1"), ("return", "early")));
        // Frames are dispatched in order: once the probe has its event, the early one was kept.
        peer.Write(Frame($"salt/job/{probeJid}/x", ("n", 1L)));
        await Within(probe.Reader.ReadAsync());

        var sink = Channel.CreateUnbounded<BusEvent>();
        using var watch = pending.Claim(jid, sink.Writer);

        Assert.True(sink.Reader.TryRead(out var e));
        Assert.Equal("early", e.Data["return"]);
    }
}

using System.Net.Sockets;
using SaltApi.Protocol.Events;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>The event bus sockets (spec/02 §1–4).</summary>
public sealed class BusTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync(c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["reader_queue"] = 1000L);

    public async Task DisposeAsync() => await h.DisposeAsync();

    private Socket Connect(string name)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(Path.Combine(h.SockDir, name)));
        return s;
    }

    [Fact]
    public async Task A_frame_pushed_into_the_pull_socket_reaches_every_reader_byte_for_byte()
    {
        using var a = h.Reader();
        using var b = h.Reader();
        var frame = SaltApi.Testing.TestData.VectorBytes("event-push-salt-netapi-hook-some-tag--hook-fire-event");
        using (var pull = Connect("master_event_pull.ipc"))
        {
            // Split in two writes: the master must reassemble the frame.
            pull.Send(frame.AsSpan(0, 10));
            await Task.Delay(20);
            pull.Send(frame.AsSpan(10));
        }

        var (evA, rawA) = await a.NextRawAsync(t => t.StartsWith("salt/netapi/hook", StringComparison.Ordinal));
        var (_, rawB) = await b.NextRawAsync(t => t.StartsWith("salt/netapi/hook", StringComparison.Ordinal));
        Assert.Equal(frame, rawA);
        Assert.Equal(frame, rawB);
        Assert.Equal("salt/netapi/hook/some/tag", evA.Tag);
    }

    [Fact]
    public async Task Several_frames_in_one_write_are_all_republished()
    {
        using var reader = h.Reader();
        var frames = Enumerable.Range(0, 3).Select(i => EventFrame.Encode($"custom/{i}", Map(("n", (long)i)))).ToArray();
        using (var pull = Connect("master_event_pull.ipc"))
        {
            pull.Send(frames.SelectMany(f => f).ToArray());
        }

        for (var i = 0; i < 3; i++)
        {
            var (ev, raw) = await reader.NextRawAsync(t => t.StartsWith("custom/", StringComparison.Ordinal));
            Assert.Equal($"custom/{i}", ev.Tag);
            Assert.Equal(frames[i], raw);
        }
    }

    [Fact]
    public async Task A_firer_sending_garbage_is_dropped_and_the_bus_keeps_working()
    {
        using var reader = h.Reader();
        using (var bad = Connect("master_event_pull.ipc"))
        {
            bad.Send([0x82, 0xa4, 0x68, 0x65, 0x61, 0x64, 0xdb, 0x80, 0x00, 0x00, 0x00, 0xc1, 0xc1]);
            try
            {
                bad.Send([0xc1, 0xc1, 0xc1, 0xc1, 0xc1]);
            }
            catch (SocketException)
            {
                // The master may already have dropped this firer after the first garbage frame.
            }
        }

        using (var good = Connect("master_event_pull.ipc"))
        {
            good.Send(EventFrame.Encode("after/garbage", Map(("ok", true))));
        }

        Assert.Equal(true, (await reader.NextAsync(t => t == "after/garbage")).Data["ok"]);
    }

    [Fact]
    public async Task A_reader_that_falls_behind_is_disconnected_and_the_others_keep_reading()
    {
        using var stalled = Connect("master_event_pub.ipc");
        using var healthy = h.Reader();
        var big = new string('x', 8192);
        using (var pull = Connect("master_event_pull.ipc"))
        {
            for (var i = 0; i < 3000; i++)
            {
                pull.Send(EventFrame.Encode("load/test", Map(("i", (long)i), ("pad", big))));
                if (i % 50 == 0)
                {
                    await Task.Delay(1); // paced, so the healthy reader is never 1000 events behind
                }
            }

            pull.Send(EventFrame.Encode("load/last", Map(("done", true))));
        }

        var last = await healthy.NextAsync(t => t == "load/last", TimeSpan.FromSeconds(60));
        Assert.Equal(true, last.Data["done"]);

        // The stalled reader now drains what was buffered for it and then sees end of stream.
        var buf = new byte[1 << 16];
        long total = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var n = await stalled.ReceiveAsync(buf, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        Assert.True(total < 3000L * 8192, "the stalled reader must not have received every event");
    }

    [Fact]
    public async Task A_reader_that_keeps_up_gets_every_event_in_order_while_a_stalled_one_is_dropped()
    {
        var bus = h.Master.Context!.Bus;
        var before = bus.ReaderCount;
        using var stalled = Connect("master_event_pub.ipc");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (bus.ReaderCount <= before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
        }

        using var healthy = h.Reader();
        var readers = bus.ReaderCount;
        var pad = new string('x', 8192);
        using (var pull = Connect("master_event_pull.ipc"))
        {
            for (var i = 0; i < 3000; i++)
            {
                pull.Send(EventFrame.Encode("order/test", Map(("i", (long)i), ("pad", pad))));
                if (i % 50 == 0)
                {
                    await Task.Delay(1); // paced, so the healthy reader is never reader_queue events behind
                }
            }
        }

        for (var i = 0; i < 3000; i++)
        {
            var ev = await healthy.NextAsync(t => t == "order/test", TimeSpan.FromSeconds(60));
            Assert.Equal((long)i, ev.Data["i"]);
        }

        // The stalled reader was dropped (the master no longer counts it) and sees its stream end.
        Assert.True(bus.ReaderCount < readers, "the stalled reader must have been dropped");
        var buf = new byte[1 << 16];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await stalled.ReceiveAsync(buf, SocketFlags.None, cts.Token) > 0)
        {
        }
    }
}

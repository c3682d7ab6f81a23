using NetMQ;
using NetMQ.Sockets;
using SaltApi.Protocol.Channel;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>
/// The request port as Salt's ROUTER → QUEUE device → REP workers: any envelope before the empty delimiter comes
/// back in front of the reply, a message with no delimiter is dropped, and the worker reads the first body frame.
/// Over a raw DEALER on loopback, which sends exactly the frames given.
/// </summary>
public sealed class RequestEnvelopeTests
{
    private static byte[] Ping(long n) => ClearEnvelope.Encode(Map(("cmd", "ping"), ("n", n)));

    private static DealerSocket Dealer(MasterHarness h)
    {
        var d = new DealerSocket();
        d.Options.Linger = TimeSpan.Zero;
        d.Connect(h.Uri);
        return d;
    }

    private static List<byte[]>? Receive(DealerSocket d, TimeSpan limit)
    {
        var msg = new NetMQMessage();
        return d.TryReceiveMultipartMessage(limit, ref msg) ? [.. msg.Select(f => f.ToByteArray())] : null;
    }

    private static long N(byte[] reply) => (long)((OrderedDictionary<string, object?>)ClearEnvelope.DecodeReply(reply)!)["n"]!;

    [Fact]
    public async Task A_multi_frame_envelope_comes_back_in_front_of_the_reply()
    {
        await using var h = await StartAsync();
        using var d = Dealer(h);
        var m = new NetMQMessage();
        m.Append([1, 2, 3, 4]);
        m.Append("second"u8.ToArray());
        m.AppendEmptyFrame();
        m.Append(Ping(7));
        d.SendMultipartMessage(m);

        var reply = Receive(d, TimeSpan.FromSeconds(20));

        Assert.NotNull(reply);
        Assert.Equal(4, reply.Count);
        Assert.Equal([1, 2, 3, 4], reply[0]);
        Assert.Equal("second"u8.ToArray(), reply[1]);
        Assert.Empty(reply[2]);
        Assert.Equal(7L, N(reply[3]));
    }

    [Fact]
    public async Task The_first_body_frame_is_the_request_and_a_REQ_style_empty_envelope_still_works()
    {
        await using var h = await StartAsync();
        using var d = Dealer(h);
        var m = new NetMQMessage();
        m.AppendEmptyFrame();
        m.Append(Ping(1));
        m.Append(Ping(2)); // a second body frame: not read, as a REP worker reads only the first
        d.SendMultipartMessage(m);

        var reply = Receive(d, TimeSpan.FromSeconds(20));

        Assert.NotNull(reply);
        Assert.Equal(2, reply.Count);
        Assert.Empty(reply[0]);
        Assert.Equal(1L, N(reply[1]));
    }

    [Fact]
    public async Task Messages_without_a_delimiter_or_with_too_long_an_envelope_are_dropped()
    {
        await using var h = await StartAsync();
        using var d = Dealer(h);
        // No empty frame at all: libzmq's REP drops it.
        d.SendMoreFrame([9]).SendFrame(Ping(1));
        // A payload alone.
        d.SendFrame(Ping(2));
        // 32 frames of envelope before the delimiter (the ROUTER adds the 33rd): past our bound.
        var longer = new NetMQMessage();
        for (var i = 0; i < 32; i++)
        {
            longer.Append([(byte)i]);
        }

        longer.AppendEmptyFrame();
        longer.Append(Ping(3));
        d.SendMultipartMessage(longer);
        // 31 frames (32 with the ROUTER's): answered.
        var longest = new NetMQMessage();
        for (var i = 0; i < 31; i++)
        {
            longest.Append([(byte)i]);
        }

        longest.AppendEmptyFrame();
        longest.Append(Ping(4));
        d.SendMultipartMessage(longest);
        // Then a good one: the only other answer.
        d.SendMoreFrame([5]).SendMoreFrameEmpty().SendFrame(Ping(5));

        var replies = new List<List<byte[]>>();
        while (replies.Count < 2 && Receive(d, TimeSpan.FromSeconds(20)) is { } r)
        {
            replies.Add(r);
        }

        Assert.Null(Receive(d, TimeSpan.FromMilliseconds(500)));
        Assert.Equal(2, replies.Count);
        var byN = replies.ToDictionary(r => N(r[^1]));
        Assert.Equal([4L, 5L], byN.Keys.Order());
        Assert.Equal(33, byN[4].Count);
        Assert.Equal([5], byN[5][0]);
    }
}

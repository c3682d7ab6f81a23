using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Config;
using SaltApi.Client.Request;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Config;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Request;

/// <summary>
/// The request channel over Salt's TCP transport against a bare TCP peer: framing, multiplexing by mid,
/// timeouts, reconnects, and the same no-resend and fail-at-once guarantees as over ZeroMQ.
/// </summary>
public sealed class TcpTransportTests
{
    private static ClientOptions Options(int port, int connections = 1) => ClientOptions.From(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        ["transport"] = "tcp",
        [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_threads"] = (long)connections },
    });

    private static OrderedDictionary<string, object?> Ping(int i) => new() { ["cmd"] = "ping", ["n"] = (long)i };

    private static long N(object? reply) => (long)((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)reply!)["load"]!)["n"]!;

    private static async Task UntilAsync(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), "condition not met in time");
            await Task.Delay(10);
        }
    }

    [Fact]
    public void Transports_other_than_zeromq_and_tcp_are_refused()
    {
        var e = Assert.Throws<ConfigException>(() => ClientOptions.From(new Dictionary<string, object?> { ["transport"] = "ws" }));
        Assert.Equal("transport", e.Key);
    }

    [Fact]
    public async Task Requests_share_one_connection_and_replies_out_of_order_find_their_request_by_mid()
    {
        using var peer = new TcpPeer((_, _) => false);
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);
        var calls = Enumerable.Range(0, 5).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(10), 3, CancellationToken.None)).ToList();
        await UntilAsync(() => peer.Received.Count == 5);

        // Salt's head: exactly {"mid": N}, ids distinct; one connection carries them all.
        var received = peer.Received.ToList();
        Assert.All(received, r => Assert.Equal(["mid"], r.HeadMap.Keys));
        Assert.Equal(5, received.Select(r => r.Mid).Distinct().Count());
        Assert.Equal(1, peer.Connections);

        foreach (var r in Enumerable.Reverse(received))
        {
            peer.Reply(r, r.Envelope);
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(i, N(await calls[i].WaitAsync(TimeSpan.FromSeconds(10))));
        }
    }

    [Fact]
    public async Task A_reply_split_into_single_bytes_and_one_for_an_unknown_mid_are_read_right()
    {
        using var peer = new TcpPeer((p, r) =>
        {
            // First a reply nobody waits for (ignored, as MessageClient does), then the real one a byte at a time.
            TcpPeer.Write(r.Connection, TcpPeer.Frame(Protocol.Msgpack.SaltMsgpack.Serialize(new OrderedDictionary<string, object?> { ["mid"] = 999_999L }, Protocol.Msgpack.MsgpackDialect.Request), [0xc0]));
            TcpPeer.Write(r.Connection, TcpPeer.Frame(r.Head, Protocol.Msgpack.SaltMsgpack.Serialize(r.Envelope, Protocol.Msgpack.MsgpackDialect.Request)), byteByByte: true);
            return false;
        });
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);

        Assert.Equal(7, N(await channel.SendAsync(Ping(7), TimeSpan.FromSeconds(10), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20))));
    }

    [Fact]
    public async Task Requests_in_flight_fail_at_once_when_the_connection_drops_none_is_sent_again_and_the_channel_reconnects()
    {
        using var peer = new TcpPeer((_, r) => (long)r.Load["n"]! >= 100);
        using var channel = new RequestChannel(Options(peer.Port, connections: 2), NullLogger.Instance);
        var calls = Enumerable.Range(0, 16).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(30), 3, CancellationToken.None)).ToList();
        await UntilAsync(() => peer.Received.Count == 16);

        var sw = Stopwatch.StartNew();
        peer.DropConnections();
        foreach (var call in calls)
        {
            await Assert.ThrowsAsync<MasterGoneException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        }

        // Not the 30 s request timeout (a third of it leaves room for a loaded machine).
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");

        // The channel connects again by itself and new requests are served on both connections; each connection
        // writes them after anything it still had queued, so once all are answered none of the 16 was sent again.
        var sent = Enumerable.Range(100, 16).Select(i => (long)i).ToList();
        var replies = await Task.WhenAll(sent.Select(n => channel.SendAsync(Ping((int)n), TimeSpan.FromSeconds(10), 3, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(sent, replies.Select(N));
        Assert.Equal([.. Enumerable.Range(0, 16).Select(i => (long)i), .. sent], peer.Received.Select(r => (long)r.Load["n"]!).Order());
    }

    [Fact]
    public async Task A_malformed_reply_drops_the_connection_and_fails_the_requests_on_it_at_once()
    {
        using var peer = new TcpPeer((_, r) =>
        {
            // 0xc1 is never valid msgpack; 300 nested arrays exceed the depth bound.
            TcpPeer.Write(r.Connection, (long)r.Load["n"]! == 0 ? [0xc1] : [.. Enumerable.Repeat((byte)0x91, 300), 0xc0]);
            return false;
        });
        foreach (var n in new[] { 0, 1 })
        {
            using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);
            var sw = Stopwatch.StartNew();
            await Assert.ThrowsAsync<MasterGoneException>(() => channel.SendAsync(Ping(n), TimeSpan.FromSeconds(30), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        }
    }

    [Fact]
    public async Task A_request_written_to_a_master_that_never_answers_waits_out_every_attempt_and_is_sent_once()
    {
        using var peer = new TcpPeer((_, r) => (long)r.Load["n"]! >= 100);
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);
        var sw = Stopwatch.StartNew();

        await Assert.ThrowsAsync<RequestTimeoutException>(() => channel.SendAsync(Ping(1), TimeSpan.FromSeconds(1), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));

        // Its reply waited for as long as Salt's client waits over its three attempts (3 s), not one (1 s).
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(2.95), TimeSpan.FromSeconds(20));
        // A later request on the same connection is answered; the connection writes in order, so a second
        // copy of the first would have reached the peer before it.
        Assert.Equal(100, N(await channel.SendAsync(Ping(100), TimeSpan.FromSeconds(10), 1, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30))));
        Assert.Equal([1L, 100L], peer.Received.Select(r => (long)r.Load["n"]!));
        Assert.Equal(1, peer.Connections);
    }

    [Fact]
    public async Task With_no_master_a_request_waits_NoConnectionWait_for_a_connection_then_fails_as_master_gone()
    {
        // Nothing listens there (a master stopped or restarting): a port from below the ephemeral range, which no outgoing connection takes.
        var port = FreePort.Next();
        using var channel = new RequestChannel(Options(port), NullLogger.Instance);
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAsync<MasterGoneException>(() => channel.SendAsync(Ping(1), TimeSpan.FromSeconds(5), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        // NoConnectionWait (1.5 s), not its three attempts (15 s); the upper bound tells the two apart on a loaded machine.
        Assert.InRange(sw.Elapsed, RequestChannel.NoConnectionWait, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task With_no_master_a_request_whose_attempts_end_sooner_times_out_after_all_of_them()
    {
        var port = FreePort.Next();
        using var channel = new RequestChannel(Options(port), NullLogger.Instance);
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RequestTimeoutException>(() => channel.SendAsync(Ping(1), TimeSpan.FromMilliseconds(300), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        // All three attempts (0.9 s), not one (0.3 s), and before NoConnectionWait would have ended it.
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(0.85), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_master_that_comes_up_late_gets_the_request_that_waited_for_it()
    {
        var port = FreePort.Next();
        using var channel = new RequestChannel(Options(port), NullLogger.Instance);
        var call = channel.SendAsync(Ping(5), TimeSpan.FromSeconds(5), 3, CancellationToken.None);
        // The master comes up while the request waits for a connection (any delay well inside NoConnectionWait will do).
        await Task.Delay(200);
        Assert.False(call.IsCompleted);
        using var peer = new TcpPeer((_, _) => true, port);

        Assert.Equal(5, N(await call.WaitAsync(TimeSpan.FromSeconds(20))));
        Assert.Single(peer.Received);
    }

    [Fact]
    public async Task FailInFlight_fails_the_requests_in_flight_and_not_the_later_ones()
    {
        using var peer = new TcpPeer((_, r) => (long)r.Load["n"]! >= 100);
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);
        var held = Enumerable.Range(0, 4).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(30), 3, CancellationToken.None)).ToList();
        await UntilAsync(() => peer.Received.Count == 4);

        channel.FailInFlight();

        foreach (var call in held)
        {
            await Assert.ThrowsAsync<MasterGoneException>(() => call.WaitAsync(TimeSpan.FromSeconds(5)));
        }

        Assert.Equal(100, N(await channel.SendAsync(Ping(100), TimeSpan.FromSeconds(10), 3, CancellationToken.None)));
    }

    [Fact]
    public async Task Dispose_fails_what_waits_and_closes_the_connections()
    {
        using var peer = new TcpPeer((_, _) => false);
        var channel = new RequestChannel(Options(peer.Port, connections: 2), NullLogger.Instance);
        var call = channel.SendAsync(Ping(1), TimeSpan.FromSeconds(30), 3, CancellationToken.None);
        await UntilAsync(() => peer.Received.Count == 1);
        Assert.True(channel.OpenSockets >= 1);

        channel.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => call.WaitAsync(TimeSpan.FromSeconds(5)));
        await UntilAsync(() => channel.OpenSockets == 0);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;
using SaltApi.Client.Config;
using SaltApi.Client.Request;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Config;
using SaltApi.Protocol.Msgpack;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Request;

/// <summary>
/// <c>request_socket: dealer</c> (the default): many requests on one DEALER socket per thread, each under its own id,
/// against a ROUTER that answers as the master's REP workers do (the envelope echoed).
/// </summary>
public sealed class DealerSocketTests
{
    private static ClientOptions Options(int port, int threads = 1, string socket = "dealer") => ClientOptions.From(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_threads"] = (long)threads, ["request_socket"] = socket },
    });

    private static OrderedDictionary<string, object?> Ping(int i) => new() { ["cmd"] = "ping", ["n"] = (long)i };

    private static long N(object? reply) => (long)((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)reply!)["load"]!)["n"]!;

    private static async Task UntilAsync(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), "condition not met in time");
            await Task.Delay(5);
        }
    }

    [Fact]
    public void The_option_is_dealer_by_default_and_anything_but_dealer_or_req_is_refused()
    {
        Assert.Equal("dealer", ClientOptions.From(new Dictionary<string, object?>()).RequestSocket);
        Assert.Equal("req", Options(1, socket: "req").RequestSocket);
        foreach (var bad in new object?[] { "router", "", 1L, new List<object?>() })
        {
            var e = Assert.Throws<ConfigException>(() => ClientOptions.From(new Dictionary<string, object?>
            {
                [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_socket"] = bad },
            }));
            Assert.Equal("saltapi_client.request_socket", e.Key);
        }
    }

    [Fact]
    public async Task Many_requests_share_one_socket_and_replies_out_of_order_reach_their_own_caller()
    {
        const int n = 100;
        var held = new ConcurrentQueue<RouterPeer.Request>();
        using var peer = new RouterPeer((_, r) =>
        {
            held.Enqueue(r);
            return false;
        });
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);

        var calls = Enumerable.Range(0, n).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(30), 1, CancellationToken.None)).ToArray();
        await UntilAsync(() => held.Count == n);

        // One connection (one ROUTER identity), each request under an id of its own, all in flight at once.
        var all = held.ToArray();
        Assert.Single(all.Select(r => Convert.ToHexString(r.Route[0])).Distinct());
        Assert.All(all, r => Assert.Equal(2, r.Route.Length));
        Assert.Equal(n, all.Select(r => Convert.ToHexString(r.Route[1])).Distinct().Count());
        Assert.Equal(2, channel.OpenSockets); // the DEALER and its monitor, not a socket per request

        // Answered last first, and each answer carries another request's number + 1000 so a mix-up shows.
        foreach (var r in all.Reverse())
        {
            peer.Reply(r, new OrderedDictionary<string, object?> { ["load"] = new OrderedDictionary<string, object?> { ["n"] = (long)r.Load["n"]! + 1000 } });
        }

        var replies = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(i + 1000L, N(replies[i]));
        }
    }

    [Fact]
    public async Task A_late_reply_after_a_timeout_is_dropped_and_the_next_request_gets_its_own()
    {
        var held = new ConcurrentQueue<RouterPeer.Request>();
        using var peer = new RouterPeer((_, r) =>
        {
            held.Enqueue(r);
            return (long)r.Load["n"]! != 1;
        });
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);

        await Assert.ThrowsAsync<RequestTimeoutException>(() => channel.SendAsync(Ping(1), TimeSpan.FromMilliseconds(300), 3, CancellationToken.None));
        Assert.Single(held); // sent once: it may have reached the master, so not again

        // The late answer to the first comes while the second waits; the second gets its own.
        var first = held.Single();
        var second = channel.SendAsync(Ping(2), TimeSpan.FromSeconds(10), 1, CancellationToken.None);
        peer.Reply(first, new OrderedDictionary<string, object?> { ["load"] = new OrderedDictionary<string, object?> { ["n"] = 1L } });
        Assert.Equal(2L, N(await second.WaitAsync(TimeSpan.FromSeconds(20))));
        var third = await channel.SendAsync(Ping(3), TimeSpan.FromSeconds(10), 1, CancellationToken.None);
        Assert.Equal(3L, N(third));
        Assert.Equal([1L, 2L, 3L], held.Select(r => (long)r.Load["n"]!));
        Assert.Equal(3, held.Select(r => Convert.ToHexString(r.Route[1])).Distinct().Count());
    }

    [Fact]
    public async Task A_request_made_while_no_master_listens_is_sent_once_one_comes_up_before_its_deadline()
    {
        var port = FreePort.Next();
        using var channel = new RequestChannel(Options(port), NullLogger.Instance);

        var call = channel.SendAsync(Ping(5), TimeSpan.FromSeconds(5), 3, CancellationToken.None);
        // The master comes up well within NoConnectionWait (1.5 s): its connection and the readiness probe's answer
        // must both fit in what is left, on a loaded machine too.
        await Task.Delay(300);
        Assert.False(call.IsCompleted);
        using var peer = new RouterPeer((_, _) => true, port);

        Assert.Equal(5L, N(await call.WaitAsync(TimeSpan.FromSeconds(20))));
        Assert.Single(peer.Received);
    }

    [Fact]
    public async Task In_flight_requests_fail_at_once_when_the_connection_drops_and_later_ones_work()
    {
        // A port from below the ephemeral range: another test's outgoing connection cannot take it while the master is away.
        var port = FreePort.Next();
        var peer = new RouterPeer((_, _) => false, port);
        using var channel = new RequestChannel(Options(port, threads: 2), NullLogger.Instance);
        var calls = Enumerable.Range(0, 20).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(30), 3, CancellationToken.None)).ToList();
        await UntilAsync(() => peer.Received.Count == 20);

        var sw = Stopwatch.StartNew();
        peer.Dispose();
        foreach (var call in calls)
        {
            await Assert.ThrowsAsync<MasterGoneException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        }

        // Seen at once, not after the 30 s request timeout: a bound that a loaded machine keeps, far below it.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        // Later requests are served, on both threads' sockets; each socket sends them after anything it still had
        // queued, so once all are answered the master has received exactly these: none of the 20 again.
        using var again = new RouterPeer((_, _) => true, port);
        var sent = Enumerable.Range(100, 16).Select(i => (long)i).ToList();
        var replies = await Task.WhenAll(sent.Select(n => channel.SendAsync(Ping((int)n), TimeSpan.FromSeconds(10), 3, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(sent, replies.Select(N));
        Assert.Equal(sent, again.Received.Select(r => (long)r.Load["n"]!).Order());
        Assert.Equal(2, again.Received.Select(r => Convert.ToHexString(r.Route[0])).Distinct().Count());
    }

    [Fact]
    public async Task Against_a_pooled_request_device_that_does_not_echo_the_envelope_requests_go_over_REQ_and_run_once()
    {
        // Salt 3008's zmq_device_pooled: reads the payload from the third frame and answers under [identity][empty]
        // only; what it cannot decode gets {"error": "Routing error"} and does not run.
        using var device = new PooledDevice();
        using var channel = new RequestChannel(Options(device.Port, threads: 2), NullLogger.Instance);

        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(10), 1, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(30));
        var later = await channel.SendAsync(Ping(20), TimeSpan.FromSeconds(10), 1, CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), replies.Select(N));
        Assert.Equal(20L, N(later));
        // Each ran exactly once, and every REQ-framed request after the switch routed well.
        Assert.Equal(Enumerable.Range(0, 21).Select(i => (long)i), device.Ran.Order());
    }

    /// <summary>A ROUTER that routes as Salt 3008's pooled device: payload = frame 2, answer [identity][empty][reply].</summary>
    private sealed class PooledDevice : IDisposable
    {
        private readonly RouterSocket router = new();
        private readonly NetMQPoller poller;

        public PooledDevice()
        {
            router.Options.Linger = TimeSpan.Zero;
            Port = router.BindRandomPort("tcp://127.0.0.1");
            router.ReceiveReady += (_, _) =>
            {
                var msg = new NetMQMessage();
                while (router.TryReceiveMultipartMessage(TimeSpan.Zero, ref msg))
                {
                    object? reply;
                    try
                    {
                        var load = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)ClearEnvelope.DecodeReply(msg[2].ToByteArray())!)["load"]!;
                        if (load.TryGetValue("n", out var n))
                        {
                            Ran.Enqueue((long)n!); // else the channel's readiness probe (ClearFuncs.ping), answered too
                        }

                        reply = new OrderedDictionary<string, object?> { ["load"] = load };
                    }
                    catch (Exception e) when (e is SaltProtocolException or MessagePack.MessagePackSerializationException or EndOfStreamException or InvalidCastException or NullReferenceException)
                    {
                        reply = new OrderedDictionary<string, object?> { ["error"] = "Routing error" };
                    }

                    var m = new NetMQMessage();
                    m.Append(msg[0]);
                    m.AppendEmptyFrame();
                    m.Append(SaltMsgpack.Serialize(reply, MsgpackDialect.Request));
                    router.SendMultipartMessage(m);
                    msg = new NetMQMessage();
                }
            };
            poller = [router];
            poller.RunAsync("pooled-device", true);
        }

        public int Port { get; }

        public ConcurrentQueue<long> Ran { get; } = new();

        public void Dispose()
        {
            poller.Stop();
            poller.Dispose();
            router.Dispose();
        }
    }
}

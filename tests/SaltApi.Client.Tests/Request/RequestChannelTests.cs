using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Request;
using SaltApi.Client.Config;
using SaltApi.Client.Tests.Support;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Request;

public sealed class RequestChannelTests
{
    private static ClientOptions Options(int port, int threads = 2) => ClientOptions.From(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_threads"] = (long)threads },
    });

    private static OrderedDictionary<string, object?> Ping(int i) => new() { ["cmd"] = "ping", ["n"] = (long)i };

    [Fact]
    public async Task Sends_Salt_envelope_and_returns_the_decoded_reply()
    {
        using var peer = new RouterPeer((_, _) => true);
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);

        var reply = await channel.SendAsync(Ping(7), TimeSpan.FromSeconds(10), 3, CancellationToken.None);

        var env = Assert.IsType<OrderedDictionary<string, object?>>(reply);
        Assert.Equal(["enc", "load", "version"], env.Keys);
        Assert.Equal("clear", env["enc"]);
        Assert.Equal(2L, env["version"]);
        Assert.Equal(7L, ((OrderedDictionary<string, object?>)env["load"]!)["n"]);
    }

    [Fact]
    public async Task Concurrent_requests_are_all_on_the_wire_before_any_reply()
    {
        // The peer answers nothing until it holds all N requests at once: if any request waited for
        // another's round trip, this would never complete (and the test would time out).
        const int n = 64;
        var held = new List<RouterPeer.Request>();
        var gate = new object();
        using var peer = new RouterPeer((p, r) =>
        {
            lock (gate)
            {
                held.Add(r);
                if (held.Count == n)
                {
                    foreach (var h in held)
                    {
                        p.Reply(h, h.Envelope);
                    }
                }
            }

            return false;
        });
        using var channel = new RequestChannel(Options(peer.Port, threads: 3), NullLogger.Instance);

        var tasks = Enumerable.Range(0, n).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(30), 1, CancellationToken.None)).ToArray();
        var replies = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));

        for (var i = 0; i < n; i++)
        {
            var load = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)replies[i]!)["load"]!;
            Assert.Equal((long)i, load["n"]);
        }
    }

    [Fact]
    public async Task No_more_than_request_sockets_are_in_flight_and_a_cancelled_waiter_gives_its_turn_back()
    {
        var held = new List<RouterPeer.Request>();
        using var peer = new RouterPeer((_, r) =>
        {
            lock (held)
            {
                held.Add(r);
            }

            return false;
        });
        var options = ClientOptions.From(new Dictionary<string, object?>
        {
            ["interface"] = "127.0.0.1",
            ["ret_port"] = (long)peer.Port,
            [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_sockets"] = 2L, ["request_threads"] = 1L },
        });
        using var channel = new RequestChannel(options, NullLogger.Instance);
        using var cts = new CancellationTokenSource();

        var first = channel.SendAsync(Ping(1), TimeSpan.FromSeconds(30), 1, CancellationToken.None);
        var second = channel.SendAsync(Ping(2), TimeSpan.FromSeconds(30), 1, CancellationToken.None);
        // Both slots are taken: the third waits for one, and gives up.
        var third = channel.SendAsync(Ping(3), TimeSpan.FromSeconds(30), 1, cts.Token);
        while (peer.Received.Count < 2)
        {
            await Task.Delay(10);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third.WaitAsync(TimeSpan.FromSeconds(30)));
        var fourth = channel.SendAsync(Ping(4), TimeSpan.FromSeconds(30), 1, CancellationToken.None);
        RouterPeer.Request[] both;
        lock (held)
        {
            both = [.. held];
        }

        foreach (var h in both)
        {
            peer.Reply(h, h.Envelope);
        }

        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));
        // The slots freed by the replies reach the fourth, past the cancelled third.
        while (peer.Received.Count < 3)
        {
            await Task.Delay(10);
        }

        peer.Reply(peer.Received.Last(), peer.Received.Last().Envelope);
        var reply = (OrderedDictionary<string, object?>)(await fourth.WaitAsync(TimeSpan.FromSeconds(30)))!;
        Assert.Equal(4L, ((OrderedDictionary<string, object?>)reply["load"]!)["n"]);
        Assert.Equal([1L, 2L, 4L], peer.Received.Select(r => (long)r.Load["n"]!).Order());
    }

    [Fact]
    public async Task A_call_cancelled_before_it_starts_sends_nothing()
    {
        using var peer = new RouterPeer((_, _) => true);
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.SendAsync(Ping(1), TimeSpan.FromSeconds(10), 1, new CancellationToken(true)));
        var reply = (OrderedDictionary<string, object?>)(await channel.SendAsync(Ping(2), TimeSpan.FromSeconds(10), 1, CancellationToken.None))!;

        Assert.Equal(2L, ((OrderedDictionary<string, object?>)reply["load"]!)["n"]);
        Assert.Equal([2L], peer.Received.Select(r => (long)r.Load["n"]!));
    }

    [Fact]
    public void The_mailbox_handle_of_a_NetMQ_socket_is_found_so_the_fast_poll_is_used()
    {
        using var socket = new NetMQ.Sockets.RequestSocket();
        using var other = new NetMQ.Sockets.RequestSocket();

        var handle = MailboxHandle.Of(socket);

        Assert.NotNull(handle);
        Assert.NotSame(handle, MailboxHandle.Of(other));
    }

    [Fact]
    public async Task Requests_in_flight_fail_at_once_when_the_masters_running_file_goes_away()
    {
        using var dir = new TempDir();
        var running = Path.Combine(dir.Path, "workers.ipc");
        File.WriteAllText(running, "");
        using var peer = new RouterPeer((_, _) => false);
        var options = ClientOptions.From(new Dictionary<string, object?>
        {
            ["interface"] = "127.0.0.1",
            ["ret_port"] = (long)peer.Port,
            ["sock_dir"] = dir.Path,
            ["cachedir"] = dir.Path,
        });
        using var channel = new RequestChannel(options, NullLogger.Instance);

        var call = channel.SendAsync(Ping(1), TimeSpan.FromSeconds(60), 3, CancellationToken.None);
        while (peer.Received.IsEmpty)
        {
            await Task.Delay(10);
        }

        File.Delete(running);
        await Assert.ThrowsAsync<MasterGoneException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Nothing_listening_fails_with_a_timeout_not_a_hang()
    {
        using var channel = new RequestChannel(Options(FreePort.Next()), NullLogger.Instance);

        await Assert.ThrowsAsync<RequestTimeoutException>(() => channel.SendAsync(Ping(1), TimeSpan.FromMilliseconds(150), 2, CancellationToken.None));
    }

    [Fact]
    public async Task Cancellation_completes_the_call_and_the_channel_keeps_working()
    {
        var seen = 0;
        using var peer = new RouterPeer((_, _) => Interlocked.Increment(ref seen) > 1);
        using var channel = new RequestChannel(Options(peer.Port), NullLogger.Instance);
        using var cts = new CancellationTokenSource();

        var first = channel.SendAsync(Ping(1), TimeSpan.FromSeconds(30), 1, cts.Token);
        while (peer.Received.IsEmpty)
        {
            await Task.Delay(10);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        var second = await channel.SendAsync(Ping(2), TimeSpan.FromSeconds(10), 1, CancellationToken.None);
        Assert.NotNull(second);
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Bus;
using SaltApi.Client.Config;
using SaltApi.Client.Request;
using SaltApi.Client.Tests.Support;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Request;

/// <summary>
/// The master goes away with requests in flight: they fail at once (their connection dropped, or the
/// event bus closed with nothing listening), nothing that may have reached the master is sent again,
/// and no socket is left behind across restarts.
/// </summary>
public sealed class MasterLostTests
{
    private static ClientOptions Options(int port, string socket, int sockets = 256, int threads = 2) => ClientOptions.From(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_threads"] = (long)threads, ["request_sockets"] = (long)sockets, ["request_socket"] = socket },
    });

    private static OrderedDictionary<string, object?> Ping(int i) => new() { ["cmd"] = "ping", ["n"] = (long)i };

    private static async Task UntilAsync(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), "condition not met in time");
            await Task.Delay(10);
        }
    }

    [Theory]
    [InlineData("dealer")]
    [InlineData("req")]
    public async Task Requests_in_flight_fail_at_once_when_the_masters_connection_drops_and_none_is_sent_again(string socket)
    {
        // A port from below the ephemeral range: another test's outgoing connection cannot take it while the master is away.
        var port = FreePort.Next();
        var peer = new RouterPeer((_, _) => false, port);
        using var channel = new RequestChannel(Options(port, socket, threads: 2), NullLogger.Instance);
        var calls = Enumerable.Range(0, 16).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(30), 3, CancellationToken.None)).ToList();
        await UntilAsync(() => peer.Received.Count == 16);

        var sw = Stopwatch.StartNew();
        peer.Dispose();
        foreach (var call in calls)
        {
            await Assert.ThrowsAsync<MasterGoneException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        }

        // Not the 30 s request timeout: the drop is seen within a sweep or two (a bound a loaded machine keeps).
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");

        // The master is back on its port: new requests are served, and none of the 16 reaches it again.
        using var again = new RouterPeer((_, _) => true, port);
        await ServedOnEveryThreadAsync(channel, again, 100);
    }

    /// <summary>
    /// Sends 16 requests from <paramref name="first"/> on and waits for every reply: each request thread sends
    /// some of them, in order after anything it queued before. The master then has received exactly these, so a
    /// request sent again after a drop shows here without a sleep.
    /// </summary>
    private static async Task ServedOnEveryThreadAsync(RequestChannel channel, RouterPeer peer, int first)
    {
        var sent = Enumerable.Range(first, 16).Select(i => (long)i).ToList();
        var replies = await Task.WhenAll(sent.Select(n => channel.SendAsync(Ping((int)n), TimeSpan.FromSeconds(10), 3, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(sent, replies.Select(r => (long)((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)r!)["load"]!)["n"]!));
        Assert.Equal(sent, peer.Received.Select(r => (long)r.Load["n"]!).Order());
    }

    [Theory]
    [InlineData("dealer")]
    [InlineData("req")]
    public async Task A_request_that_reached_the_master_is_not_sent_again_after_its_timeout(string socket)
    {
        var answer = false;
        using var peer = new RouterPeer((_, _) => Volatile.Read(ref answer));
        using var channel = new RequestChannel(Options(peer.Port, socket), NullLogger.Instance);

        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RequestTimeoutException>(() => channel.SendAsync(Ping(1), TimeSpan.FromMilliseconds(700), 3, CancellationToken.None));
        // Its reply waited for as long as Salt's client waits over its three attempts (2.1 s), not one (0.7 s).
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(2.05), TimeSpan.FromSeconds(20));

        // One attempt, not three: a publish sent again would run twice. The later requests are answered, and
        // each thread sends them after anything it still had queued.
        Volatile.Write(ref answer, true);
        var sent = Enumerable.Range(100, 16).Select(i => (long)i).ToList();
        await Task.WhenAll(sent.Select(n => channel.SendAsync(Ping((int)n), TimeSpan.FromSeconds(10), 3, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([1L, .. sent], peer.Received.Select(r => (long)r.Load["n"]!).Order());
    }

    [Theory]
    [InlineData("dealer")]
    [InlineData("req")]
    public async Task A_request_made_before_the_master_listens_is_sent_once_it_does(string socket)
    {
        // Warm (JIT) the peer's answering path, so that the reply comes well within an attempt.
        using (var warm = new RouterPeer((_, _) => true))
        using (var warmChannel = new RequestChannel(Options(warm.Port, socket), NullLogger.Instance))
        {
            await warmChannel.SendAsync(Ping(0), TimeSpan.FromSeconds(10), 1, CancellationToken.None);
        }

        // Nothing listens when the request is made; the master comes up well within NoConnectionWait.
        var port = FreePort.Next();
        using var channel = new RequestChannel(Options(port, socket), NullLogger.Instance);
        var call = channel.SendAsync(Ping(1), TimeSpan.FromSeconds(5), 3, CancellationToken.None);
        using var peer = new RouterPeer((_, _) => true, port);

        var reply = (OrderedDictionary<string, object?>)(await call.WaitAsync(TimeSpan.FromSeconds(30)))!;

        Assert.Equal(1L, ((OrderedDictionary<string, object?>)reply["load"]!)["n"]);
        Assert.Single(peer.Received);
    }

    [Theory]
    [InlineData("dealer")]
    [InlineData("req")]
    public async Task A_request_with_no_connection_fails_after_NoConnectionWait_and_is_never_sent_later(string socket)
    {
        // Nothing listens (a master stopped or restarting): no connection to send the request on.
        var port = FreePort.Next();
        using var channel = new RequestChannel(Options(port, socket), NullLogger.Instance);
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAsync<MasterGoneException>(() => channel.SendAsync(Ping(1), TimeSpan.FromSeconds(5), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(sw.Elapsed >= RequestChannel.NoConnectionWait && sw.Elapsed < TimeSpan.FromSeconds(5), $"failed after {sw.Elapsed}, not after its 5 s x 3 tries");

        // The master comes back: the next request is served, and the failed one never reaches it.
        using var peer = new RouterPeer((_, _) => true, port);
        var reply = (OrderedDictionary<string, object?>)(await channel.SendAsync(Ping(2), TimeSpan.FromSeconds(10), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)))!;
        Assert.Equal(2L, ((OrderedDictionary<string, object?>)reply["load"]!)["n"]);
        Assert.Equal([2L], peer.Received.Select(r => (long)r.Load["n"]!));
    }

    [Theory]
    [InlineData("dealer")]
    [InlineData("req")]
    public async Task FailInFlight_fails_the_requests_in_flight_and_not_the_later_ones(string socket)
    {
        using var peer = new RouterPeer((_, r) => (long)r.Load["n"]! >= 100);
        using var channel = new RequestChannel(Options(peer.Port, socket), NullLogger.Instance);
        var calls = Enumerable.Range(0, 8).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(30), 3, CancellationToken.None)).ToList();
        await UntilAsync(() => peer.Received.Count == 8);

        var sw = Stopwatch.StartNew();
        channel.FailInFlight();
        foreach (var call in calls)
        {
            await Assert.ThrowsAsync<MasterGoneException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        }

        // Seen at once, not after the 30 s request timeout: a bound that a loaded machine keeps, far below it.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        var reply = (OrderedDictionary<string, object?>)(await channel.SendAsync(Ping(100), TimeSpan.FromSeconds(10), 1, CancellationToken.None))!;
        Assert.Equal(100L, ((OrderedDictionary<string, object?>)reply["load"]!)["n"]);
        Assert.Equal(9, peer.Received.Count);
    }

    [Fact]
    public async Task The_bus_closing_with_nothing_listening_reports_the_master_lost_but_a_dropped_reader_does_not()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "master_event_pub.ipc");
        var peer = new BusPeer(path);
        await using var bus = new EventBusReader(ClientOptions.From(new Dictionary<string, object?> { ["sock_dir"] = dir.Path, ["cachedir"] = dir.Path }), NullLogger.Instance);
        var lost = 0;
        bus.MasterLost += () => Interlocked.Increment(ref lost);
        bus.Start();
        await peer.WaitReaderAsync();

        // The master drops its reader (too slow, say) but still listens: the reader connects again; nothing is lost.
        peer.DropReaders();
        await peer.WaitReaderAsync();
        await Task.Delay(300);
        Assert.Equal(0, Volatile.Read(ref lost));

        // The master goes away: its socket file stays, nothing listens on it.
        var sw = Stopwatch.StartNew();
        peer.Dispose();
        await UntilAsync(() => Volatile.Read(ref lost) > 0);
        // At once (a bound a loaded machine keeps), not after a reconnect loop gives up.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        await Task.Delay(500);
        Assert.Equal(1, Volatile.Read(ref lost));
    }

    [Theory]
    [InlineData("dealer")]
    [InlineData("req")]
    public async Task No_socket_is_left_open_across_master_restarts(string socket)
    {
        var port = FreePort.Next();
        var channel = new RequestChannel(Options(port, socket, sockets: 8, threads: 2), NullLogger.Instance);
        try
        {
            for (var round = 0; round < 5; round++)
            {
                var n = round * 100;
                var peer = new RouterPeer((_, r) => (long)r.Load["n"]! % 2 == 0, port);
                {
                    // Served requests (the pool fills), then requests held when the master goes.
                    await Task.WhenAll(Enumerable.Range(0, 8).Select(i => channel.SendAsync(Ping(n + (2 * i)), TimeSpan.FromSeconds(10), 1, CancellationToken.None)));
                    var held = Enumerable.Range(0, 8).Select(i => channel.SendAsync(Ping(n + (2 * i) + 1), TimeSpan.FromSeconds(30), 3, CancellationToken.None)).ToList();
                    await UntilAsync(() => peer.Received.Count == 16);
                    peer.Dispose();
                    foreach (var h in held)
                    {
                        await Assert.ThrowsAsync<MasterGoneException>(() => h.WaitAsync(TimeSpan.FromSeconds(30)));
                    }
                }

                // Dropped sockets are closed with their monitors; the pool never holds more than request_sockets.
                await UntilAsync(() => channel.OpenSockets <= 8);
            }
        }
        finally
        {
            channel.Dispose();
        }

        Assert.Equal(0, channel.OpenSockets);
    }
}

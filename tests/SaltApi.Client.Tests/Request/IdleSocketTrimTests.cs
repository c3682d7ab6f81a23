using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Config;
using SaltApi.Client.Request;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Config;

namespace SaltApi.Client.Tests.Request;

/// <summary>
/// The REQ socket pool grows to the peak of requests in flight; sockets left idle longer than
/// <c>request_socket_idle</c> are closed (a few per thread kept), so a burst does not hold its sockets' memory for good.
/// </summary>
public sealed class IdleSocketTrimTests
{
    private static ClientOptions Options(int port, string poller, double? idle) => ClientOptions.From(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        [ClientOptions.ConfigKey] = idle is { } s
            ? new Dictionary<string, object?> { ["request_threads"] = 2L, ["request_socket"] = "req", ["request_poller"] = poller, ["request_socket_idle"] = s }
            : new Dictionary<string, object?> { ["request_threads"] = 2L, ["request_socket"] = "req", ["request_poller"] = poller },
    });

    private static OrderedDictionary<string, object?> Ping(int i) => new() { ["cmd"] = "ping", ["n"] = (long)i };

    private static async Task BurstAsync(RequestChannel channel, int n) =>
        await Task.WhenAll(Enumerable.Range(0, n).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(10), 1, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData("hand")]
    [InlineData("netmq")]
    public async Task Sockets_idle_past_request_socket_idle_are_closed_and_requests_still_work(string poller)
    {
        // The peer holds every request until 40 are in: the pool must open 40 sockets.
        var released = false;
        using var peer = new RouterPeer((p, r) =>
        {
            if (released)
            {
                return true;
            }

            if (p.Received.Count < 40)
            {
                return false;
            }

            released = true;
            foreach (var q in p.Received.Where(q => q != r))
            {
                p.Reply(q, q.Envelope);
            }

            return true;
        });
        using var channel = new RequestChannel(Options(peer.Port, poller, 0.3), NullLogger.Instance);
        await BurstAsync(channel, 40);
        var peak = channel.OpenSockets;
        Assert.Equal(40, peak);

        var wait = Stopwatch.StartNew();
        while (channel.OpenSockets > 4)
        {
            Assert.True(wait.Elapsed < TimeSpan.FromSeconds(10), $"{channel.OpenSockets} sockets still open (2 threads x 2 kept)");
            await Task.Delay(50);
        }

        // The kept sockets and fresh ones serve the next burst.
        await BurstAsync(channel, 20);
        var reply = (OrderedDictionary<string, object?>)(await channel.SendAsync(Ping(7), TimeSpan.FromSeconds(10), 1, CancellationToken.None))!;
        Assert.Equal(7L, ((OrderedDictionary<string, object?>)reply["load"]!)["n"]);
    }

    [Fact]
    public async Task By_default_idle_sockets_are_kept_for_a_while()
    {
        using var peer = new RouterPeer((_, _) => true);
        using var channel = new RequestChannel(Options(peer.Port, "hand", null), NullLogger.Instance);
        await BurstAsync(channel, 40);
        var peak = channel.OpenSockets;
        await Task.Delay(1500);
        Assert.Equal(peak, channel.OpenSockets);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(100000.0)]
    public void Out_of_range_values_are_refused(double idle) =>
        Assert.Equal("saltapi_client.request_socket_idle", Assert.Throws<ConfigException>(() => Options(1, "hand", idle)).Key);
}

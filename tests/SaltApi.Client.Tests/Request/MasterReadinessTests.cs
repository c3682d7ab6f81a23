using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Config;
using SaltApi.Client.Request;
using SaltApi.Client.Tests.Support;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Request;

/// <summary>
/// A master whose ret_port is open but whose workers do not answer yet (a salt-master just restarted): a request
/// is not sent to it, where it would wait in the master's queue, time out after its 5 s and run later all the same.
/// It fails (503) within <see cref="RequestChannel.NoConnectionWait"/>, unsent, until the master answers the
/// channel's probe; then requests go again. On ZeroMQ (DEALER and REQ sockets) and on the TCP transport.
/// </summary>
public sealed class MasterReadinessTests
{
    private static ClientOptions Options(int port, string socket) => ClientOptions.From(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        ["transport"] = socket == "tcp" ? "tcp" : "zeromq",
        [ClientOptions.ConfigKey] = socket == "tcp"
            ? new Dictionary<string, object?> { ["request_threads"] = 2L }
            : new Dictionary<string, object?> { ["request_threads"] = 2L, ["request_socket"] = socket },
    });

    private static OrderedDictionary<string, object?> Ping(int i) => new() { ["cmd"] = "ping", ["n"] = (long)i };

    private static long N(object? reply) => (long)((OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)reply!)["load"]!)["n"]!;

    /// <summary>A ZeroMQ or TCP master stand-in that answers every request; its probes as told.</summary>
    private sealed class Peer : IDisposable
    {
        private readonly RouterPeer? zmq;
        private readonly TcpPeer? tcp;

        public Peer(string socket, bool answerProbes, int port = 0)
        {
            if (socket == "tcp")
            {
                tcp = new TcpPeer((_, _) => true, port) { AnswerProbes = answerProbes };
            }
            else
            {
                zmq = new RouterPeer((_, _) => true, port) { AnswerProbes = answerProbes };
            }
        }

        public int Port => zmq?.Port ?? tcp!.Port;

        public int Probes => zmq?.Probes ?? tcp!.Probes;

        public long[] Received => zmq is not null ? zmq.Received.Select(r => (long)r.Load["n"]!).ToArray() : tcp!.Received.Select(r => (long)r.Load["n"]!).ToArray();

        public bool AnswerProbes
        {
            set
            {
                if (zmq is not null)
                {
                    zmq.AnswerProbes = value;
                }
                else
                {
                    tcp!.AnswerProbes = value;
                }
            }
        }

        public void Dispose()
        {
            zmq?.Dispose();
            tcp?.Dispose();
        }
    }

    private static async Task FailsUnsentAsync(RequestChannel channel, int n)
    {
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAsync<MasterGoneException>(() => channel.SendAsync(Ping(n), TimeSpan.FromSeconds(5), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        // NoConnectionWait (1.5 s) with room for a loaded machine; a request sent would wait out its 5 s.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), $"failed after {sw.Elapsed}, not within NoConnectionWait");
    }

    [Theory]
    [InlineData("dealer")]
    [InlineData("req")]
    [InlineData("tcp")]
    public async Task A_master_that_does_not_answer_yet_gets_no_request_and_gets_them_once_it_answers(string socket)
    {
        using var peer = new Peer(socket, answerProbes: false);
        using var channel = new RequestChannel(Options(peer.Port, socket), NullLogger.Instance);

        // Concurrent requests share the one probe in flight; none is sent.
        await Task.WhenAll(Enumerable.Range(1, 8).Select(i => FailsUnsentAsync(channel, i)));
        Assert.Empty(peer.Received);
        Assert.InRange(peer.Probes, 1, 2);

        // The workers are up: the probe in flight (or the next) is answered, and requests go again.
        peer.AnswerProbes = true;
        var reply = await channel.SendAsync(Ping(100), TimeSpan.FromSeconds(10), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(100L, N(reply));
        Assert.Equal([100L], peer.Received);
    }

    [Theory]
    [InlineData("dealer")]
    [InlineData("req")]
    [InlineData("tcp")]
    public async Task After_the_connection_drops_no_request_is_sent_to_a_restarted_master_before_it_answers(string socket)
    {
        var port = FreePort.Next();
        using var channel = new RequestChannel(Options(port, socket), NullLogger.Instance);
        using (var first = new Peer(socket, answerProbes: true, port))
        {
            Assert.Equal(1L, N(await channel.SendAsync(Ping(1), TimeSpan.FromSeconds(10), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30))));
            Assert.Equal([1L], first.Received);
        }

        // Nothing listens: a request fails unsent, and the channel has seen its connection drop.
        await FailsUnsentAsync(channel, 2);

        // Restarted on its port, workers not up: the channel reconnects, and sends nothing but probes.
        using var cold = new Peer(socket, answerProbes: false, port);
        var sw = Stopwatch.StartNew();
        while (cold.Probes == 0)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "no probe reached the restarted master");
            await FailsUnsentAsync(channel, 2);
        }

        await FailsUnsentAsync(channel, 3);
        Assert.Empty(cold.Received);

        cold.AnswerProbes = true;
        Assert.Equal(4L, N(await channel.SendAsync(Ping(4), TimeSpan.FromSeconds(10), 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30))));
        Assert.Equal([4L], cold.Received);
    }
}

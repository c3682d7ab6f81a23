using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Config;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary><c>embedded_master: publish_delay_ms</c>: the publish answer waits as a real master's does, without holding up others.</summary>
public sealed class PublishDelayTests
{
    private const int DelayMs = 300;

    private static Task<MasterHarness> StartAsync(object? delay) =>
        MasterHarness.StartAsync(cfg => ((OrderedDictionary<string, object?>)cfg["embedded_master"]!)["publish_delay_ms"] = delay);

    private static OrderedDictionary<string, object?> Publish() => CapturedRequests.Load("req-publish-publish-eauth");

    [Fact]
    public async Task Publish_answer_comes_after_the_delay_and_concurrent_publishes_wait_together()
    {
        await using var h = await StartAsync((long)DelayMs);

        var one = Stopwatch.StartNew();
        var reply = await h.SendAsync(Publish());
        one.Stop();
        var load = Assert.IsType<OrderedDictionary<string, object?>>(Assert.IsType<OrderedDictionary<string, object?>>(reply)["load"]);
        Assert.Matches("^[0-9]{20}$", (string)load["jid"]!);
        // A timer may fire a clock tick early; never a whole tick short of the delay.
        Assert.True(one.ElapsedMilliseconds >= DelayMs - 20, $"answered after {one.ElapsedMilliseconds} ms, before the {DelayMs} ms delay");

        // 40 publishes on one DEALER (as 40 REQ peers): one after another they would take 40 × 300 ms = 12 s.
        const int N = 40;
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(h.Uri);
        var all = Stopwatch.StartNew();
        for (var i = 0; i < N; i++)
        {
            dealer.SendMoreFrameEmpty().SendFrame(ClearEnvelope.Encode(Publish()));
        }

        var jids = new HashSet<string>();
        for (var i = 0; i < N; i++)
        {
            var msg = new NetMQMessage();
            Assert.True(dealer.TryReceiveMultipartMessage(TimeSpan.FromSeconds(20), ref msg), $"reply {i + 1} of {N} missing");
            var r = (OrderedDictionary<string, object?>)ClearEnvelope.DecodeReply(msg[1].ToByteArray())!;
            jids.Add((string)((OrderedDictionary<string, object?>)r["load"]!)["jid"]!);
        }

        all.Stop();
        Assert.Equal(N, jids.Count);
        Assert.True(all.ElapsedMilliseconds >= DelayMs - 20, $"{N} publishes answered after {all.ElapsedMilliseconds} ms");
        // The delays overlap: about one delay, far less than the serialized 12 s (half of it leaves a loaded machine 5 s).
        Assert.True(all.ElapsedMilliseconds < N * DelayMs / 2, $"{N} publishes took {all.ElapsedMilliseconds} ms: the delays did not overlap");
    }

    [Fact]
    public async Task Without_the_option_there_is_no_delay()
    {
        await using var h = await StartAsync(null);
        Assert.Equal(0, h.Master.Context!.Options.PublishDelayMs);
        var reply = await h.SendAsync(Publish());
        Assert.NotNull(((OrderedDictionary<string, object?>)reply!)["load"]);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData("soon")]
    [InlineData(700_000L)]
    public async Task A_wrong_delay_fails_the_start(object delay)
    {
        var dir = Directory.CreateTempSubdirectory("saltem-").FullName;
        try
        {
            var cfg = MasterHarness.Config(dir, c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["publish_delay_ms"] = delay);
            var e = await Assert.ThrowsAsync<ConfigException>(async () => await SaltMaster.StartAsync(cfg, NullLoggerFactory.Instance));
            Assert.Contains("publish_delay_ms", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Bus;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Events;

namespace SaltApi.Client.Tests.Local;

/// <summary>
/// A sync call on a master of masters (<c>order_masters</c>): the master names no minion of its own, the
/// syndics report theirs on <c>syndic/&lt;id&gt;/&lt;jid&gt;</c>, and the call returns once they have
/// answered and <c>syndic_wait</c> has passed, as LocalClient.get_iter_returns.
/// </summary>
public sealed class SyndicReturnsTests : IDisposable
{
    private readonly TempDir dir = new();

    public SyndicReturnsTests()
    {
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        File.WriteAllText(Path.Combine(dir.Path, "publish_pull.ipc"), "");
    }

    public void Dispose() => dir.Dispose();

    private static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] kv)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in kv)
        {
            d[k] = v;
        }

        return d;
    }

    [Theory]
    [InlineData("syndic/syn1/20261126191000000009", "20261126191000000009")]
    [InlineData("syndic/syn1/salt/job/20261126191000000009/ret/m1", "20261126191000000009")]
    [InlineData("syndic/syn1/nojid", null)]
    public void Syndic_tags_are_routed_by_their_jid(string tag, string? jid) => Assert.Equal(jid, EventTag.JidOf(tag));

    [Fact]
    public async Task Minions_known_only_to_a_syndic_are_collected_and_the_call_ends_after_syndic_wait()
    {
        const string jid = "20261126191000000009";
        BusPeer? bus = null;
        using var master = new RouterPeer((p, r) =>
        {
            if ((string)r.Load["fun"]! == "saltutil.find_job")
            {
                p.Reply(r, Map(("enc", "clear"), ("load", Map(("jid", null), ("minions", new List<object?>()), ("error", "Master could not resolve minions for target")))));
                return false;
            }

            Assert.Equal(10L, r.Load["to"]);
            // The master of masters has no minion of its own: the reply lists none, its syndic reports m1.
            p.Reply(r, Map(("enc", "clear"), ("load", Map(("jid", jid), ("minions", new List<object?>()), ("missing", new List<object?>())))));
            bus!.Write(EventFrame.Encode($"syndic/syn1/{jid}", Map(("minions", new List<object?> { "m1" }), ("_stamp", "2026-11-26T19:10:00.000000"))));
            bus.Write(EventFrame.Encode($"syndic/syn1/salt/job/{jid}/ret/m1", Map(("cmd", "_return"), ("id", "m1"), ("return", true), ("retcode", 0L), ("jid", jid))));
            return false;
        });
        bus = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        using var busDispose = bus;
        await using var layer = SaltClientLayer.Create(new Dictionary<string, object?>
        {
            ["interface"] = "127.0.0.1",
            ["ret_port"] = (long)master.Port,
            ["sock_dir"] = dir.Path,
            ["cachedir"] = dir.Path,
            ["netapi_enable_clients"] = new List<object?> { "local" },
            ["order_masters"] = true,
            ["syndic_wait"] = 1L,
            ["gather_job_timeout"] = 1L,
        }, NullLoggerFactory.Instance);
        await bus.WaitReaderAsync();

        var watch = Stopwatch.StartNew();
        var result = await layer.Client.RunAsync(
            Map(("client", "local"), ("tgt", "*"), ("fun", "test.ping"), ("timeout", 10L), ("token", "t0k")),
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        watch.Stop();

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["m1"], ret.Keys);
        Assert.Equal(true, ret["m1"]);
        // syndic_wait (1 s), not the timeout (10 s) nor the find_job round that follows it; the upper bound
        // leaves a loaded machine 5 s.
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(6));
    }
}

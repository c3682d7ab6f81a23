using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Events;

namespace SaltApi.Client.Tests.Local;

/// <summary>
/// LocalClient's completion algorithm (spec/02 §7) against a master whose answers the test scripts:
/// a bare ROUTER for the request channel and a unix listener for the bus.
/// </summary>
public sealed class LocalCompletionTests : IDisposable
{
    private readonly TempDir dir = new();

    public LocalCompletionTests()
    {
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        File.WriteAllText(Path.Combine(dir.Path, "publish_pull.ipc"), "");
    }

    public void Dispose() => dir.Dispose();

    private SaltClientLayer Layer(int port) => SaltClientLayer.Create(new Dictionary<string, object?>
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)port,
        ["sock_dir"] = dir.Path,
        ["cachedir"] = dir.Path,
        ["netapi_enable_clients"] = new List<object?> { "local" },
        ["gather_job_timeout"] = 1L,
    }, NullLoggerFactory.Instance);

    private static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] kv)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in kv)
        {
            d[k] = v;
        }

        return d;
    }

    private static OrderedDictionary<string, object?> Published(string jid, params string[] minions) =>
        Map(("enc", "clear"), ("load", Map(("jid", jid), ("minions", minions.Cast<object?>().ToList()), ("missing", new List<object?>()))));

    private static byte[] Ret(string jid, string id, object? ret, long retcode = 0) =>
        EventFrame.Encode($"salt/job/{jid}/ret/{id}", Map(("cmd", "_return"), ("id", id), ("success", true), ("return", ret), ("retcode", retcode), ("jid", jid), ("fun", "test.ping"), ("fun_args", new List<object?>())));

    [Fact]
    public async Task Returns_that_beat_the_publish_reply_are_kept_and_a_silent_minion_is_false_after_find_job()
    {
        const string jid = "20261126191000000001";
        const string findJid = "20261126191000000002";
        BusPeer? bus = null;
        var findJobs = new List<OrderedDictionary<string, object?>>();
        using var master = new RouterPeer((p, r) =>
        {
            var load = r.Load;
            if ((string)load["fun"]! == "saltutil.find_job")
            {
                lock (findJobs)
                {
                    findJobs.Add(load);
                }

                p.Reply(r, Published(findJid, "m2"));
                // m2 answers that the job is not running there.
                bus!.Write(Ret(findJid, "m2", Map()));
                return false;
            }

            // m1's return is on the bus before the publish reply leaves.
            bus!.Write(EventFrame.Encode($"salt/job/{jid}/new", Map(("jid", jid), ("minions", new List<object?> { "m1", "m2" }), ("missing", new List<object?>()))));
            bus.Write(Ret(jid, "m1", true));
            Thread.Sleep(50);
            p.Reply(r, Published(jid, "m1", "m2"));
            return false;
        });
        bus = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        using var busDispose = bus;
        await using var layer = Layer(master.Port);
        // The layer connects its bus reader at once; frames written before the peer accepted it would be lost.
        await bus.WaitReaderAsync();

        var result = await layer.Client.RunAsync(
            Map(("client", "local"), ("tgt", "*"), ("fun", "test.ping"), ("timeout", 1L), ("token", "t0k")),
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        Assert.Equal(["m1", "m2"], ret.Keys);
        Assert.Equal(true, ret["m1"]);
        Assert.Equal(false, ret["m2"]);

        // One find_job ping to the straggler, as a list target, with the job's credentials and client.
        var find = Assert.Single(findJobs);
        Assert.Equal(new List<object?> { "m2" }, find["tgt"]);
        Assert.Equal("list", find["tgt_type"]);
        Assert.Equal(new List<object?> { jid }, find["arg"]);
        var kwargs = (OrderedDictionary<string, object?>)find["kwargs"]!;
        Assert.Equal("t0k", kwargs["token"]);
        Assert.Equal("local", kwargs["client"]);
    }

    [Fact]
    public async Task A_minion_still_running_is_waited_for_and_full_return_keeps_the_shape()
    {
        const string jid = "20261126191000000003";
        var finds = 0;
        BusPeer? bus = null;
        using var master = new RouterPeer((p, r) =>
        {
            var load = r.Load;
            if ((string)load["fun"]! == "saltutil.find_job")
            {
                var n = Interlocked.Increment(ref finds);
                var fj = "2026112619100000010" + n;
                p.Reply(r, Published(fj, "m1"));
                // Still running: find_job returns the job's info; then the real return comes.
                bus!.Write(Ret(fj, "m1", Map(("jid", jid), ("fun", "test.sleep"))));
                bus.Write(Ret(jid, "m1", "slept", retcode: 0));
                return false;
            }

            p.Reply(r, Published(jid, "m1"));
            return false;
        });
        bus = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        using var busDispose = bus;
        await using var layer = Layer(master.Port);
        // The layer connects its bus reader at once; frames written before the peer accepted it would be lost.
        await bus.WaitReaderAsync();

        var result = await layer.Client.RunAsync(
            Map(("client", "local"), ("tgt", "m1"), ("fun", "test.sleep"), ("timeout", "1"), ("full_return", true), ("eauth", "auto"), ("username", "u"), ("password", "p")),
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        var ret = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(result));
        var m1 = Assert.IsType<OrderedDictionary<string, object?>>(ret["m1"]);
        Assert.Equal(["ret", "retcode", "jid"], m1.Keys);
        Assert.Equal("slept", m1["ret"]);
        Assert.Equal(1, finds);
    }
}

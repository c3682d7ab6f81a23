using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Msgpack;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Netapi;

/// <summary>
/// The publish load as LocalClient._prep_pub builds it from the master config: nodegroups expanded
/// (a master does not expand them), <c>ext_job_cache</c> added to <c>ret</c>, <c>to</c> on a master of
/// masters. The master side is a bare ROUTER answering the captured reply.
/// </summary>
public sealed class PublishOptionsWireTests : IDisposable
{
    private readonly TempDir dir = new();

    public PublishOptionsWireTests()
    {
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        File.WriteAllText(Path.Combine(dir.Path, "publish_pull.ipc"), "");
    }

    public void Dispose() => dir.Dispose();

    private SaltClientLayer Layer(int port, params (string Key, object? Value)[] extra)
    {
        var opts = new Dictionary<string, object?>
        {
            ["interface"] = "127.0.0.1",
            ["ret_port"] = (long)port,
            ["sock_dir"] = dir.Path,
            ["cachedir"] = dir.Path,
            ["conf_file"] = "/etc/salt/master",
            ["netapi_enable_clients"] = new List<object?> { "local", "local_async", "local_batch", "local_subset" },
            ["nodegroups"] = new OrderedDictionary<string, object?>
            {
                ["webs"] = "L@ms-0,ms-1",
                ["dbs"] = new List<object?> { "ms-2", "ms-3" },
                ["both"] = "N@webs or N@dbs",
            },
        };
        foreach (var (k, v) in extra)
        {
            opts[k] = v;
        }

        return SaltClientLayer.Create(opts, NullLoggerFactory.Instance);
    }

    private static RouterPeer Answering(string replyVector) =>
        new((p, r) =>
        {
            p.Reply(r, SaltMsgpack.Deserialize(TestData.VectorBytes(replyVector)));
            return false;
        });

    private static OrderedDictionary<string, object?> Low(params (string Key, object? Value)[] kv)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in kv)
        {
            d[k] = v;
        }

        return d;
    }

    private static OrderedDictionary<string, object?> Async(params (string Key, object? Value)[] kv) =>
        Low([("client", "local_async"), ("fun", "test.ping"), ("token", "t"), .. kv]);

    [Fact]
    public async Task Nodegroup_target_is_published_as_its_compound_expansion()
    {
        using var peer = Answering("rep-publish-publish-token");
        await using var layer = Layer(peer.Port);

        await layer.Client.RunAsync(Async(("tgt", "both"), ("tgt_type", "nodegroup")), CancellationToken.None);
        await layer.Client.RunAsync(Async(("tgt", "dbs"), ("tgt_type", "nodegroup")), CancellationToken.None);
        await layer.Client.RunAsync(Async(("tgt", "G@os:Debian and not N@webs"), ("tgt_type", "compound")), CancellationToken.None);

        var loads = peer.Received.Select(r => r.Load).ToList();
        // As nodegroup_comp: a nested list group is one L@ word, a nested expression is parenthesized.
        Assert.Equal("( ( L@ms-0,ms-1 ) or L@ms-2,ms-3 )", loads[0]["tgt"]);
        Assert.Equal("L@ms-2,ms-3", loads[1]["tgt"]);
        Assert.Equal("G@os:Debian and not L@ms-0,ms-1", loads[2]["tgt"]);
        await layer.Client.RunAsync(Async(("tgt", "G@os:Debian and N@both"), ("tgt_type", "compound")), CancellationToken.None);
        Assert.Equal("G@os:Debian and ( ( L@ms-0,ms-1 ) or L@ms-2,ms-3 )", peer.Received.Last().Load["tgt"]);
        Assert.All(loads, l => Assert.Equal("compound", l["tgt_type"]));
        // The key order of Salt's payload is unchanged.
        Assert.All(loads, l => Assert.Equal(["cmd", "tgt", "fun", "arg", "key", "tgt_type", "ret", "jid", "kwargs", "user"], l.Keys));
    }

    [Fact]
    public async Task Unknown_nodegroup_is_refused_before_anything_is_sent()
    {
        using var peer = Answering("rep-publish-publish-token");
        await using var layer = Layer(peer.Port);

        foreach (var (tgt, type) in new[] { ("nosuch", "nodegroup"), ("ms-0 or N@nosuch", "compound") })
        {
            var e = await Assert.ThrowsAsync<SaltInvocationException>(() => layer.Client.RunAsync(Async(("tgt", tgt), ("tgt_type", type)), CancellationToken.None));
            Assert.Equal("Node group nosuch unavailable in /etc/salt/master", e.Message);
        }

        Assert.Empty(peer.Received);
    }

    [Fact]
    public async Task Batch_and_subset_publish_the_expansion_too()
    {
        // The reply names no minion: batch and subset stop after their first publish.
        using var peer = Answering("rep-publish-publish-no-minion");
        using var bus = new BusPeer(Path.Combine(dir.Path, "master_event_pub.ipc"));
        await using var layer = Layer(peer.Port);

        await layer.Client.RunAsync(Low(("client", "local_batch"), ("tgt", "webs"), ("tgt_type", "nodegroup"), ("fun", "test.ping"), ("token", "t")), CancellationToken.None);
        await layer.Client.RunAsync(Low(("client", "local_subset"), ("tgt", "dbs"), ("tgt_type", "nodegroup"), ("fun", "test.ping"), ("token", "t")), CancellationToken.None);

        // local_batch's ping, then local_subset's sys.list_functions (its final publish names no minion).
        var loads = peer.Received.Select(r => r.Load).ToList();
        Assert.Equal(("L@ms-0,ms-1", "compound"), (loads[0]["tgt"], loads[0]["tgt_type"]));
        Assert.Equal(("L@ms-2,ms-3", "compound"), (loads[1]["tgt"], loads[1]["tgt_type"]));
        Assert.Equal("sys.list_functions", loads[1]["fun"]);
    }

    [Fact]
    public async Task Ext_job_cache_is_added_to_every_publishs_returners()
    {
        using var peer = Answering("rep-publish-publish-token");
        await using var layer = Layer(peer.Port, ("ext_job_cache", "redis"));

        await layer.Client.RunAsync(Async(("tgt", "*")), CancellationToken.None);
        await layer.Client.RunAsync(Async(("tgt", "*"), ("ret", "mysql")), CancellationToken.None);
        var e = await Assert.ThrowsAsync<SaltInvocationException>(() => layer.Client.RunAsync(Async(("tgt", "*"), ("ret", new List<object?> { "x" })), CancellationToken.None));
        Assert.Contains("ret", e.Message, StringComparison.Ordinal);

        var loads = peer.Received.Select(r => r.Load).ToList();
        Assert.Equal(2, loads.Count);
        Assert.Equal("redis", loads[0]["ret"]);
        Assert.Equal("mysql,redis", loads[1]["ret"]);
    }

    [Fact]
    public async Task Without_ext_job_cache_ret_is_the_callers()
    {
        using var peer = Answering("rep-publish-publish-token");
        await using var layer = Layer(peer.Port, ("ext_job_cache", ""));

        await layer.Client.RunAsync(Async(("tgt", "*")), CancellationToken.None);

        var load = Assert.Single(peer.Received).Load;
        Assert.Equal("", load["ret"]);
        Assert.False(load.ContainsKey("to"));
    }

    [Fact]
    public async Task A_master_of_masters_gets_the_timeout_as_to()
    {
        using var peer = Answering("rep-publish-publish-token");
        await using var layer = Layer(peer.Port, ("order_masters", true));

        await layer.Client.RunAsync(Async(("tgt", "*")), CancellationToken.None);
        await layer.Client.RunAsync(Async(("tgt", "*"), ("timeout", 9L)), CancellationToken.None);

        var loads = peer.Received.Select(r => r.Load).ToList();
        Assert.Equal(["cmd", "tgt", "fun", "arg", "key", "tgt_type", "ret", "jid", "kwargs", "user", "to"], loads[0].Keys);
        Assert.Equal(5L, loads[0]["to"]);
        Assert.Equal(9L, loads[1]["to"]);
    }
}

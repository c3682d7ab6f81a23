using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Msgpack;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>The pre-dispatch rules of the request channel (spec/01 §4), over a real REQ socket.</summary>
public sealed class ChannelTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync();

    public async Task DisposeAsync() => await h.DisposeAsync();

    private object? Raw(object? payload) => ClearEnvelope.DecodeReply(h.SendRaw(SaltMsgpack.Serialize(payload, MsgpackDialect.Request))!);

    [Fact]
    public void Sockets_and_marker_files_exist_with_salts_modes()
    {
        Assert.True(File.Exists(Path.Combine(h.SockDir, "workers.ipc")));
        Assert.True(File.Exists(Path.Combine(h.SockDir, "publish_pull.ipc")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(h.SockDir, "master_event_pull.ipc")));
        // external_auth is configured: the pub socket is world read/write, as Salt chmods it.
        Assert.True(File.GetUnixFileMode(Path.Combine(h.SockDir, "master_event_pub.ipc")).HasFlag(UnixFileMode.OtherWrite));
        Assert.NotEqual(0, h.Master.RetPort);
    }

    [Fact]
    public void Payload_without_enc_is_bad_load() => Assert.Equal("bad load", Raw(Map(("load", Map(("cmd", "ping"))))));

    [Fact]
    public void Payload_that_is_not_a_map_is_bad_load() => Assert.Equal("bad load", Raw("hello"));

    [Fact]
    public void Load_that_is_not_a_map_is_refused() => Assert.Equal("payload and load must be a dict", Raw(Map(("enc", "clear"), ("load", "x"), ("version", 2L))));

    [Fact]
    public void Id_with_null_byte_is_refused() => Assert.Equal("bad load: id contains a null byte", h.Send(Map(("cmd", "ping"), ("id", "a\0b"))));

    [Fact]
    public void Id_that_is_not_a_string_is_refused() => Assert.Equal("bad load: id 5 is not a string", h.Send(Map(("cmd", "ping"), ("id", 5L))));

    [Fact]
    public void Missing_cmd_is_the_exception_reply() => Assert.Equal("Some exception handling minion payload", h.Send(Map(("tgt", "*"))));

    [Fact]
    public void Unknown_cmd_is_an_empty_map() => Assert.Equal(new OrderedDictionary<string, object?>(), h.Send(Map(("cmd", "_pillar"))));

    [Fact]
    public async Task Requests_beyond_max_concurrent_requests_wait_and_are_all_answered_with_their_own_reply()
    {
        await using var one = await StartAsync(c => ((OrderedDictionary<string, object?>)c["embedded_master"]!)["max_concurrent_requests"] = 1L);
        // Each client on its own thread (a blocking REQ socket), so the master's workers are not starved of threads.
        var replies = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Task.Factory.StartNew(() => one.Send(Map(("cmd", "ping"), ("n", (long)i))), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));
        for (var i = 0; i < replies.Length; i++)
        {
            Assert.Equal((long)i, Assert.IsType<OrderedDictionary<string, object?>>(replies[i])["n"]);
        }
    }

    [Fact]
    public void Ping_returns_the_load()
    {
        var reply = Assert.IsType<OrderedDictionary<string, object?>>(h.Send(Map(("cmd", "ping"), ("x", 1L))));
        Assert.Equal("ping", reply["cmd"]);
        Assert.Equal(1L, reply["x"]);
    }

    [Fact]
    public void Undecodable_bytes_get_no_reply_and_the_master_keeps_serving()
    {
        Assert.Null(h.SendRaw([0xc1, 0xc1, 0xc1], TimeSpan.FromMilliseconds(500)));
        Assert.Equal(new OrderedDictionary<string, object?>(), h.Send(Map(("cmd", "nosuch"))));
    }

    [Fact]
    public void Publish_without_arg_is_the_exception_reply()
    {
        var load = CapturedRequests.Load("req-publish-publish-eauth");
        load.Remove("arg");
        Assert.Equal("Some exception handling minion payload", h.Send(load));
    }

    [Fact]
    public async Task Many_concurrent_clients_each_get_their_own_reply()
    {
        var tasks = Enumerable.Range(0, 50).Select(i => h.SendAsync(Map(("cmd", "ping"), ("n", (long)i)))).ToList();
        var replies = await Task.WhenAll(tasks);
        for (var i = 0; i < replies.Length; i++)
        {
            Assert.Equal((long)i, ((OrderedDictionary<string, object?>)replies[i]!)["n"]);
        }
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Tests.Support;
using SaltApi.Protocol.Events;
using SaltApi.Testing;
using static SaltApi.Client.Tests.Support.MasterFixture;

namespace SaltApi.Client.Tests.Bus;

/// <summary><c>ipc_mode: tcp</c>: the bus on 127.0.0.1:tcp_master_pub_port, firing on tcp_master_pull_port.</summary>
public sealed class IpcModeTcpTests
{
    [Fact]
    public async Task Bus_fire_and_requests_use_the_tcp_ports()
    {
        var pubPort = FreePort.Next();
        var pullPort = FreePort.Next();
        using var pub = new BusPeer(pubPort);
        using var pull = new BusPeer(pullPort);
        using var master = new RouterPeer((p, r) =>
        {
            p.Reply(r, Map(("enc", "clear"), ("load", Map(("jid", "20261126193000000001"), ("minions", new List<object?> { "m1" }), ("missing", new List<object?>())))));
            return false;
        });
        await using var layer = SaltClientLayer.Create(Map(
            ("interface", "127.0.0.1"),
            ("ret_port", (long)master.Port),
            ("ipc_mode", "tcp"),
            ("tcp_master_pub_port", (long)pubPort),
            ("tcp_master_pull_port", (long)pullPort),
            // No sock_dir files at all: with ipc_mode tcp the file checks are skipped.
            ("sock_dir", "/nonexistent/sock"),
            ("cachedir", "/nonexistent"),
            ("netapi_enable_clients", new List<object?> { "local_async" })), NullLoggerFactory.Instance);

        using var sub = layer.Events.Subscribe();
        await pub.WaitReaderAsync();
        pub.Write(EventFrame.Encode("over/tcp", Map(("x", 1L))));
        Assert.Equal("over/tcp", (await sub.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20))).Tag);

        var result = await layer.Client.RunAsync(Map(("client", "local_async"), ("tgt", "m1"), ("fun", "test.ping"), ("token", "t")), CancellationToken.None);
        Assert.Equal("20261126193000000001", ((OrderedDictionary<string, object?>)result[0]!)["jid"]);

        var reading = pull.ReadFromFirstReaderAsync();
        Assert.True(await layer.Client.FireEventAsync("fired/tcp", Map(("y", 2L)), CancellationToken.None));
        var bytes = await reading.WaitAsync(TimeSpan.FromSeconds(20));
        var seq = new System.Buffers.ReadOnlySequence<byte>(bytes);
        Assert.True(EventFrame.TryRead(ref seq, out var fired));
        Assert.Equal("fired/tcp", fired!.Tag);
        Assert.Equal(2L, fired.Data["y"]);
        Assert.True(seq.IsEmpty);
    }

    [Fact]
    public async Task Firing_without_a_bus_is_false_not_an_error()
    {
        await using var layer = SaltClientLayer.Create(Map(
            ("ipc_mode", "tcp"),
            ("tcp_master_pull_port", (long)FreePort.Next())), NullLoggerFactory.Instance);

        Assert.False(await layer.Client.FireEventAsync("x/y", Map(), CancellationToken.None));
        Assert.False(await layer.Client.FireEventAsync("", Map(), CancellationToken.None));
    }
}

using System.Buffers;
using System.Net;
using System.Net.Sockets;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Msgpack;
using static SaltApi.EmbeddedMaster.Tests.MasterHarness;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>
/// The master's request port with <c>transport: tcp</c> over a bare socket: Salt's framing (maps back to back,
/// the reply under the request's head), pipelining, and bounded, untrusted input.
/// </summary>
public sealed class TcpChannelTests : IAsyncLifetime
{
    private MasterHarness h = null!;

    public async Task InitializeAsync() => h = await StartAsync(c =>
    {
        c["transport"] = "tcp";
        ((OrderedDictionary<string, object?>)c["embedded_master"]!)["max_request_bytes"] = 4096L;
    });

    public async Task DisposeAsync() => await h.DisposeAsync();

    private Socket Connect()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 20_000 };
        s.Connect(new IPEndPoint(IPAddress.Loopback, h.Master.RetPort));
        return s;
    }

    private static byte[] Request(object? head, OrderedDictionary<string, object?> load) =>
        SaltMsgpack.Serialize(Map(("head", head), ("body", Map(("enc", "clear"), ("load", load), ("version", 2L)))), MsgpackDialect.Request);

    /// <summary>The next whole messages from the socket, decoded.</summary>
    private static List<OrderedDictionary<string, object?>> Read(Socket s, int count)
    {
        var scanner = new MsgpackScanner(1 << 20);
        var buf = new byte[1 << 16];
        var result = new List<OrderedDictionary<string, object?>>();
        int start = 0, end = 0;
        while (result.Count < count)
        {
            var n = s.Receive(buf, end, buf.Length - end, SocketFlags.None);
            Assert.NotEqual(0, n);
            end += n;
            int len;
            while (start < end && (len = scanner.Scan(buf.AsSpan(start, end - start))) > 0)
            {
                result.Add((OrderedDictionary<string, object?>)SaltMsgpack.Deserialize(buf.AsMemory(start, len))!);
                start += len;
            }
        }

        return result;
    }

    /// <summary>True when the master closed the connection (reads end) within the limit.</summary>
    private static bool Closed(Socket s)
    {
        var buf = new byte[4096];
        try
        {
            while (true)
            {
                if (s.Receive(buf) == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            return false;
        }
    }

    [Fact]
    public void Requests_pipelined_in_one_write_are_answered_under_their_own_head()
    {
        using var s = Connect();
        var bytes = Request(Map(("mid", 1L), ("extra", "kept")), Map(("cmd", "ping"), ("n", 1L)))
            .Concat(Request(Map(("mid", 2L)), Map(("cmd", "ping"), ("n", 2L))))
            .ToArray();
        s.Send(bytes);

        var replies = Read(s, 2).OrderBy(r => (long)((OrderedDictionary<string, object?>)r["head"]!)["mid"]!).ToList();

        // As TCPReqServer.handle_message: frame_msg(reply, header=header), the request's head as it came.
        Assert.Equal(Map(("mid", 1L), ("extra", "kept")), replies[0]["head"]);
        Assert.Equal(Map(("mid", 2L)), replies[1]["head"]);
        Assert.Equal(1L, ((OrderedDictionary<string, object?>)replies[0]["body"]!)["n"]);
        Assert.Equal(2L, ((OrderedDictionary<string, object?>)replies[1]["body"]!)["n"]);
    }

    [Fact]
    public void A_request_sent_a_byte_at_a_time_is_read_whole()
    {
        using var s = Connect();
        foreach (var b in Request(Map(("mid", 9L)), Map(("cmd", "ping"), ("n", 9L))))
        {
            s.Send([b]);
        }

        var reply = Assert.Single(Read(s, 1));
        Assert.Equal(9L, ((OrderedDictionary<string, object?>)reply["body"]!)["n"]);
    }

    [Theory]
    [InlineData("oversized")]
    [InlineData("invalid byte")]
    [InlineData("too deep")]
    [InlineData("no head")]
    [InlineData("not a map")]
    public void Bad_framing_closes_the_connection_and_the_master_serves_others(string kind)
    {
        using var s = Connect();
        byte[] bytes = kind switch
        {
            // A str32 header announcing 1 GiB: refused before it is buffered.
            "oversized" => [0x81, 0xa4, .. "body"u8, 0xdb, 0x40, 0x00, 0x00, 0x00],
            "invalid byte" => [0xc1],
            "too deep" => [.. Enumerable.Repeat((byte)0x91, 300), 0xc0],
            "no head" => SaltMsgpack.Serialize(Map(("body", Map(("enc", "clear")))), MsgpackDialect.Request),
            _ => SaltMsgpack.Serialize("hello", MsgpackDialect.Request),
        };
        s.Send(bytes);

        Assert.True(Closed(s), "the connection stayed open");
        using var other = Connect();
        other.Send(Request(Map(("mid", 1L)), Map(("cmd", "ping"), ("n", 3L))));
        Assert.Equal(3L, ((OrderedDictionary<string, object?>)Assert.Single(Read(other, 1))["body"]!)["n"]);
    }

    [Fact]
    public async Task Requests_beyond_max_concurrent_requests_on_one_connection_wait_and_are_all_answered_by_mid()
    {
        await using var one = await StartAsync(c =>
        {
            c["transport"] = "tcp";
            ((OrderedDictionary<string, object?>)c["embedded_master"]!)["max_concurrent_requests"] = 1L;
        });
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 20_000 };
        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, one.Master.RetPort));
        s.Send(Enumerable.Range(1, 40).SelectMany(i => Request(Map(("mid", (long)i)), Map(("cmd", "ping"), ("n", (long)i)))).ToArray());

        var replies = Read(s, 40);

        Assert.All(replies, r => Assert.Equal(((OrderedDictionary<string, object?>)r["head"]!)["mid"], ((OrderedDictionary<string, object?>)r["body"]!)["n"]));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), replies.Select(r => (long)((OrderedDictionary<string, object?>)r["head"]!)["mid"]!).Order());
    }

    [Fact]
    public void The_zeromq_port_is_not_opened_with_transport_tcp()
    {
        // A ZeroMQ peer gets no ZMTP greeting: the port speaks Salt's TCP framing only.
        Assert.Null(h.SendRaw(ClearEnvelope.Encode(Map(("cmd", "ping"))), TimeSpan.FromMilliseconds(500)));
    }
}

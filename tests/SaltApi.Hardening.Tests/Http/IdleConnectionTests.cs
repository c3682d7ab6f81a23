using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SaltApi.Testing;
using Xunit.Abstractions;

namespace SaltApi.Hardening.Tests.Http;

/// <summary>rest_wsgi with 8 connections at most, 4 from one address.</summary>
public sealed class IdleConnectionFixture : HardeningFixture
{
    public const int MaxConnections = 8;
    public const int PerAddress = 4;

    protected override string WsgiKeys => $"  max_connections: {MaxConnections}\n  max_connections_per_address: {PerAddress}\n";
}

/// <summary>
/// Idle connections are closed as the README says (about 10 s, CherryPy's socket_timeout), one address cannot
/// take every connection, and refused connections are counted in a warning at most every 10 s, not one line each.
/// </summary>
public sealed class IdleConnectionTests(IdleConnectionFixture fixture, ITestOutputHelper output) : IClassFixture<IdleConnectionFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(40);

    private Daemon Daemon => fixture.Daemon;

    private static async Task<Socket> ConnectAsync(int port, string from = "127.0.0.1")
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return socket;
    }

    /// <summary>Reads until the server closes the connection; the time that took (fails past <paramref name="limit"/>).</summary>
    private static async Task<TimeSpan> ClosedAfterAsync(Socket socket, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource(limit);
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset: closed too.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the connection was still open after {limit.TotalSeconds} s");
        }

        return watch.Elapsed;
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_about_10_s_on_every_module()
    {
        // Kestrel's default keep-alive timeout kept such a socket 130 s (also before the first request).
        foreach (var port in new[] { Daemon.CherrypyPort, Daemon.WsgiPort })
        {
            using var silent = await ConnectAsync(port);
            var after = await ClosedAfterAsync(silent, Limit);
            output.WriteLine($"port {port}: silent connection closed after {after.TotalSeconds:F1} s");
            Assert.True(after > TimeSpan.FromSeconds(5), after.ToString());
        }
    }

    [Fact]
    public async Task A_keep_alive_connection_idle_after_its_request_is_closed_after_about_10_s()
    {
        using var socket = await ConnectAsync(Daemon.CherrypyPort);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n"));
        var after = await ClosedAfterAsync(socket, Limit);
        output.WriteLine($"keep-alive connection closed {after.TotalSeconds:F1} s after its request");
        Assert.True(after > TimeSpan.FromSeconds(5), after.ToString());
    }

    // The first of the sockets the server closes (end of stream or reset), or null if none is closed before the token.
    private static async Task<Socket?> FirstClosedAsync(List<Socket> sockets, CancellationToken ct)
    {
        var reads = sockets.Select(async s =>
        {
            var buffer = new byte[4096];
            try
            {
                while (await s.ReceiveAsync(buffer, SocketFlags.None, ct) > 0)
                {
                }

                return s;
            }
            catch (SocketException)
            {
                return s;
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }).ToList();
        while (reads.Count > 0)
        {
            var done = await Task.WhenAny(reads);
            if (await done is { } s)
            {
                return s;
            }

            reads.Remove(done);
        }

        return null;
    }

    [Fact]
    public async Task One_address_cannot_take_every_connection()
    {
        var held = new List<Socket>();
        try
        {
            // The per-address bound: the address's next connection is closed at once.
            for (var i = 0; i < IdleConnectionFixture.PerAddress; i++)
            {
                held.Add(await ConnectAsync(Daemon.WsgiPort, "127.0.0.3"));
            }

            // One more: one of the address's connections is closed at once. Usually the newest, but connections are
            // counted as the server takes them up, which need not be the order they were accepted in.
            held.Add(await ConnectAsync(Daemon.WsgiPort, "127.0.0.3"));
            using (var within = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            {
                var closed = await FirstClosedAsync(held, within.Token);
                await within.CancelAsync(); // the other reads end
                Assert.True(closed is not null, "none of the address's connections was closed within 5 s");
            }

            // Another address is served meanwhile.
            using var user = LoginFloodTestsClient("127.0.0.2");
            using var ok = await user.GetAsync(Daemon.Wsgi);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Refused_connections_are_one_warning_at_most_every_10_s_not_one_line_each()
    {
        var held = new List<Socket>();
        try
        {
            // The connection limit, one connection from each of 8 addresses; then 20 refused.
            for (var i = 0; i < IdleConnectionFixture.MaxConnections; i++)
            {
                held.Add(await ConnectAsync(Daemon.WsgiPort, $"127.0.1.{10 + i}"));
            }

            // Kestrel counts a connection as open until its close has been processed: count those it refuses.
            var refused = 0;
            for (var i = 0; refused < 20; i++)
            {
                Assert.True(i < 200, "the connection limit never refused a connection");
                using var more = await ConnectAsync(Daemon.WsgiPort, $"127.0.2.{10 + (i % 100)}");
                refused += await ClosedAfterAsync(more, Limit) < TimeSpan.FromSeconds(5) ? 1 : 0;
            }

            // A marker request after them: once its access line is in the log, so are the warnings before it.
            held.ForEach(s => s.Dispose());
            held.Clear();
            var marker = "/marker-" + Guid.NewGuid().ToString("N")[..12]; // fewer than 32 hex digits: not masked as a token
            await WaitForAsync(async () =>
            {
                using var client = new HttpClient();
                using var response = await client.GetAsync(new Uri(Daemon.Wsgi, marker));
                return response.StatusCode == HttpStatusCode.OK;
            });
            await WaitForAsync(() => Task.FromResult(Daemon.Output.Contains(marker, StringComparison.Ordinal)));

            // (The per-address test's refusal may have made the one report of this 10 s window.)
            var lines = Daemon.Output.Split('\n').Where(l =>
                (l.Contains("rejected because the maximum number of concurrent connections", StringComparison.Ordinal)
                || l.Contains("connection(s) refused", StringComparison.Ordinal))).ToList();
            lines.ForEach(output.WriteLine);
            Assert.NotEmpty(lines);
            Assert.True(lines.Count <= 2, $"{lines.Count} warning lines for {refused} refused connections");
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    private static HttpClient LoginFloodTestsClient(string from) => Auth.LoginFloodTests.From(from);

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < Limit, "not within 40 s");
            await Task.Delay(100);
        }
    }
}

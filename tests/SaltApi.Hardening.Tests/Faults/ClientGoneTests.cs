using System.Net.Sockets;
using System.Text.RegularExpressions;
using SaltApi.Testing;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.Faults;

/// <summary>
/// A client that closes its connection while its request waits for the master (wrk stopping, a browser tab
/// closed): nobody receives the answer, and no module logs it as a server error. Its access line says 499.
/// </summary>
public sealed class ClientGoneTests
{
    [Fact]
    public async Task A_request_whose_client_left_before_the_master_answered_is_logged_499_not_500()
    {
        var tornado = FreePort.Next();
        // The master answers a publish after 2 s: time for the client to leave first.
        await using var daemon = await Daemon.StartAsync(
            $"""
            rest_tornado:
              address: 127.0.0.1
              port: {tornado}
              disable_ssl: true
            """,
            configure: dir =>
            {
                var path = Path.Combine(dir, "master");
                File.WriteAllText(path, File.ReadAllText(path).Replace("  minions: 5\n", "  minions: 5\n  publish_delay_ms: 2000\n", StringComparison.Ordinal));
            });
        await daemon.WaitForPortAsync(tornado, TimeSpan.FromSeconds(60));

        // rest_cherrypy's and rest_tornado's /run and rest_wsgi's / take eauth in the lowstate. Each client leaves at
        // once (its body may not be read yet) or after a moment (its request then waits for the master).
        (int Port, string Path)[] targets = [(daemon.CherrypyPort, "/run"), (tornado, "/run"), (daemon.WsgiPort, "/")];
        var sockets = new List<Socket>();
        foreach (var leaveAfter in (int[])[0, 500])
        {
            foreach (var (port, path) in targets)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync("127.0.0.1", port);
                await socket.SendAsync(Post(path, $$"""[{"client": "local_async", "tgt": "*", "fun": "test.ping", {{Creds}}}]""", "application/json", ("Accept", "application/json")));
            }

            await Task.Delay(leaveAfter);
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            sockets.Clear();
        }

        // Each request's access line is written once the module is done with it.
        var line = new Regex("\"POST (/run|/) HTTP/1.1\" (\\d+) ");
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (line.Count(daemon.Output) < 2 * targets.Length)
        {
            await Task.Delay(100, wait.Token);
        }

        var output = daemon.Output;
        // 499, or Kestrel's 400 when the connection ended before the whole body was read: never a server error.
        Assert.All(line.Matches(output), m => Assert.True(m.Groups[2].Value is "499" or "400", output));
        Assert.DoesNotContain("500 for", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not serialize", output, StringComparison.Ordinal);
    }
}

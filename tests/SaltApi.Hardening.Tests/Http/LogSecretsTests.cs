using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using SaltApi.Testing;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.Http;

/// <summary>
/// Finding 11: a daemon at the most verbose levels (<c>-l all</c>, <c>log_level_logfile: all</c>,
/// rest_cherrypy <c>debug: true</c>) serves requests that carry the token in every place a client may
/// put it, and the password in bodies; neither appears in the console or the log file.
/// </summary>
public sealed class LogSecretsTests : IAsyncLifetime
{
    private const string Secret = "Pw-7c1e9b-not-in-logs";
    private Daemon daemon = null!;

    public async Task InitializeAsync() =>
        daemon = await Daemon.StartAsync("log_level_logfile: all\n", configure: dir =>
        {
            File.WriteAllText(Path.Combine(dir, "users"), $"saltdev:{Secret}\nlimited:saltdev\n");
            var path = Path.Combine(dir, "master");
            var text = Regex.Replace(File.ReadAllText(path), @"(?m)^rest_cherrypy:\n  port: \d+\n", m => m.Value + "  debug: true\n");
            File.WriteAllText(path, text);
        }, args: ["-l", "all"]);

    public async Task DisposeAsync() => await daemon.DisposeAsync();

    [Fact]
    public async Task No_line_at_any_level_holds_a_token_or_a_password()
    {
        var port = daemon.CherrypyPort;
        var creds = $$"""{"username": "saltdev", "password": "{{Secret}}", "eauth": "file"}""";
        var login = await RawHttp.SendAsync(port, Post("/login", creds, "application/json", ("Accept", "application/json")));
        Assert.True(login.Status == 200, login.ToString());
        var token = login.Header("X-Auth-Token")!;
        var form = await RawHttp.SendAsync(port, Post("/login", $"username=saltdev&password={Secret}&eauth=file", "application/x-www-form-urlencoded"));
        Assert.True(form.Status == 200, form.ToString());

        // /events?token= (read the first chunk, then hang up), and the salt_token spelling.
        foreach (var query in new[] { "token", "salt_token" })
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync("127.0.0.1", port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /events?{query}={token} HTTP/1.1\r\nHost: x\r\n\r\n"));
            var buffer = new byte[4096];
            Assert.True(await stream.ReadAsync(buffer) > 0);
        }

        // /ws/<token>
        using (var ws = new ClientWebSocket())
        {
            await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws/{token}"), CancellationToken.None);
            await ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[4096];
            await ws.ReceiveAsync(buffer, CancellationToken.None);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }

        // The token in a path, a cookie, a header; the password in /run, /token, rest_wsgi; bad requests carrying both.
        var run = $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", "username": "saltdev", "password": "{{Secret}}", "eauth": "file"}]""";
        byte[][] requests =
        [
            RawHttp.Build("GET", $"/jobs?token={token}", [("Cookie", $"session_id={token}")]),
            RawHttp.Build("GET", "/minions/ms--0", [("X-Auth-Token", token)]),
            RawHttp.Build("GET", $"/nowhere/{token}?password={Secret}"),
            Post("/run", run),
            Post("/token", creds),
            Post("/login", $$"""{"username": "saltdev", "password": "{{Secret}}x", "eauth": "file"}"""),
            Post("/", "[1]", "application/json", ("X-Auth-Token", token)),
            Raw($"GET /ws/{token}\u0001?password={Secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            Raw($"GET /events?token={token} HTTP/1.1\r\nHost: x\r\nBad Header: {Secret}\r\nConnection: close\r\n\r\n"),
        ];
        foreach (var request in requests)
        {
            var response = await RawHttp.SendAsync(port, request);
            Assert.True(response.Status > 0, response.ToString());
        }

        var wsgi = await RawHttp.SendAsync(daemon.WsgiPort, Post("/", run));
        Assert.True(wsgi.Status == 200, wsgi.ToString());

        await Task.Delay(1000);
        var console = daemon.Output;
        var file = await File.ReadAllTextAsync(Path.Combine(daemon.Dir, "api.log"));
        // The daemon did log these requests (the access log at info), so the check is not vacuous.
        Assert.Contains("\"GET /ws/*** HTTP/1.1\" 101", file, StringComparison.Ordinal);
        Assert.Contains("\"POST /run HTTP/1.1\" 200", file, StringComparison.Ordinal);
        foreach (var (name, text) in new[] { ("console", console), ("api.log", file) })
        {
            Assert.False(text.Contains(token, StringComparison.Ordinal), $"{name} holds the token:\n{Around(text, token)}");
            Assert.False(text.Contains(Secret, StringComparison.Ordinal), $"{name} holds the password:\n{Around(text, Secret)}");
        }
    }

    private static string Around(string text, string secret)
    {
        var at = text.IndexOf(secret, StringComparison.Ordinal);
        if (at < 0)
        {
            return "";
        }

        var start = text.LastIndexOf('\n', Math.Max(at, 0)) + 1;
        var end = text.IndexOf('\n', at);
        return text[start..(end < 0 ? text.Length : end)];
    }
}

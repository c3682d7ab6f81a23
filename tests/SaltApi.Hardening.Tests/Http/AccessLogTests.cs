using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.Http;

/// <summary>rest_cherrypy with <c>log_access_file</c> and <c>log_error_file</c>; saltdev's password is <see cref="Secret"/>.</summary>
public sealed class AccessLogFixture : HardeningFixture
{
    public const string Secret = "Pw-5d2a71-not-in-access-logs";

    public string AccessLog => Path.Combine(Daemon.Dir, "logs", "access.log");

    public string ErrorLog => Path.Combine(Daemon.Dir, "logs", "error.log");

    protected override string CherrypyKeys(string dir) => base.CherrypyKeys(dir)
        + $"  log_access_file: {dir}/logs/access.log\n  log_error_file: {dir}/logs/error.log\n";

    protected override void Configure(string dir)
    {
        base.Configure(dir);
        File.WriteAllText(Path.Combine(dir, "users"), $"saltdev:{Secret}\nlimited:saltdev\n");
    }
}

/// <summary>
/// Issue 15 item 3: one line per request in CherryPy's access-log format, in <c>log_access_file</c>, with no
/// token and no password in it wherever the client put them (query, <c>/ws/&lt;token&gt;</c>, Referer).
/// </summary>
public sealed partial class AccessLogTests(AccessLogFixture fixture, ITestOutputHelper output) : IClassFixture<AccessLogFixture>
{
    private int Port => fixture.Daemon.CherrypyPort;

    [Fact]
    public async Task Login_events_and_ws_lines_hold_no_token_and_no_password()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var agent = ("User-Agent", "curl/7.88.1 " + tag);
        var creds = $$"""{"username": "saltdev", "password": "{{AccessLogFixture.Secret}}", "eauth": "file"}""";
        var login = await RawHttp.SendAsync(Port, Post("/login", creds, "application/json", ("Accept", "application/json"), agent));
        Assert.True(login.Status == 200, login.ToString());
        var token = login.Header("X-Auth-Token")!;

        // The password in a query, the token in a query, a cookie, a Referer and a path (the Referer a page of the
        // API's own origin: from another one, a request on the session cookie alone is refused).
        var queryLogin = await RawHttp.SendAsync(Port, RawHttp.Build("POST", $"/login?username=saltdev&password={AccessLogFixture.Secret}&eauth=file", [agent, ("Content-Type", "application/x-www-form-urlencoded")], []));
        Assert.True(queryLogin.Status > 0, queryLogin.ToString());
        var jobs = await RawHttp.SendAsync(Port, RawHttp.Build("GET", $"/jobs?token={token}", [agent, ("Referer", $"http://127.0.0.1/app/?token={token}#x"), ("Cookie", $"session_id={token}")]));
        Assert.True(jobs.Status == 200, jobs.ToString());

        // /events?token= : read the first chunk, then hang up (the line is written when the stream ends).
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /events?token={token} HTTP/1.1\r\nHost: x\r\nUser-Agent: {agent.Item2}\r\n\r\n"));
            Assert.True(await stream.ReadAsync(new byte[4096]) > 0);
        }

        // /ws/<token>
        using (var ws = new ClientWebSocket())
        {
            ws.Options.SetRequestHeader("User-Agent", agent.Item2);
            await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{Port}/ws/{token}"), CancellationToken.None);
            await ws.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, CancellationToken.None);
            await ws.ReceiveAsync(new byte[4096], CancellationToken.None);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }

        var lines = await WaitForLinesAsync(tag, 5);
        output.WriteLine(string.Join('\n', lines));
        Assert.Contains(lines, l => l.Contains("\"POST /login HTTP/1.1\" 200 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"POST /login?username=saltdev&password=***&eauth=file HTTP/1.1\" ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"GET /jobs?token=*** HTTP/1.1\" 200 ", StringComparison.Ordinal) && l.Contains("\"http://127.0.0.1/app/?token=***#x\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"GET /events?token=*** HTTP/1.1\" 200 - ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"GET /ws/*** HTTP/1.1\" 101 - ", StringComparison.Ordinal));

        var whole = await ProxyRequests.ReadSharedAsync(fixture.AccessLog);
        Assert.DoesNotContain(token, whole, StringComparison.Ordinal);
        Assert.DoesNotContain(AccessLogFixture.Secret, whole, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_line_is_in_CherryPys_format()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var response = await RawHttp.SendAsync(Port, RawHttp.Build("GET", "/", [("User-Agent", "say \"hi\" " + tag), ("Referer", "http://r.example/")]));
        Assert.True(response.Status == 200, response.ToString());
        var line = Assert.Single(await WaitForLinesAsync(tag, 1));
        // As CherryPy 18 writes it (with Content-Length, a Referer and a quote in the agent):
        // 127.0.0.1 - - [01/Dec/2026:18:02:11] "GET / HTTP/1.1" 200 146 "http://r.example/" "say \"hi\" 0a1b2c3d"
        Assert.Matches(CherryPyLine(), line);
        Assert.EndsWith($"\"GET / HTTP/1.1\" 200 {response.Header("Content-Length") ?? "-"} \"http://r.example/\" \"say \\\"hi\\\" {tag}\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_error_log_file_has_the_modules_lines()
    {
        string text = "";
        for (var i = 0; i < 100 && !text.Contains("rest_cherrypy listening on", StringComparison.Ordinal); i++, await Task.Delay(50))
        {
            text = File.Exists(fixture.ErrorLog) ? await ProxyRequests.ReadSharedAsync(fixture.ErrorLog) : "";
        }

        Assert.Matches(@"(?m)^\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\] INFO rest_cherrypy listening on ", text);
    }

    private async Task<List<string>> WaitForLinesAsync(string part, int count)
    {
        var lines = new List<string>();
        for (var i = 0; i < 100 && lines.Count < count; i++, await Task.Delay(50))
        {
            lines = File.Exists(fixture.AccessLog)
                ? (await ProxyRequests.ReadSharedAsync(fixture.AccessLog)).Split('\n').Where(l => l.Contains(part, StringComparison.Ordinal)).ToList()
                : [];
        }

        return lines;
    }

    [GeneratedRegex("""^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\] "GET / HTTP/1\.1" 200 (\d+|-) "[^"]*" "(\\"|[^"])*"$""")]
    private static partial Regex CherryPyLine();
}

using System.Net.Sockets;
using System.Text;
using SaltApi.Testing;
using static SaltApi.Hardening.Tests.BadInput.Requests;

namespace SaltApi.Hardening.Tests.Http;

/// <summary>
/// A daemon with a small rest_cherrypy gate (thread_pool 2, queue_size 1), <c>cors_origin: '*'</c>,
/// and a rest_wsgi section with its default body bound and a one-request gate.
/// </summary>
public sealed class HttpHardeningFixture : HardeningFixture
{
    public const int CherrypyThreads = 2;
    public const int CherrypyQueue = 1;

    protected override string WsgiKeys => "  thread_pool: 1\n  queue_size: 0\n";

    protected override string CherrypyKeys(string dir) =>
        $"  max_request_body_size: 1048576\n  thread_pool: {CherrypyThreads}\n  queue_size: {CherrypyQueue}\n  cors_origin: '*'\n";
}

/// <summary>
/// The HTTP side of issue 12 (findings 4, 5, 6, 8, 9, 13, 15), each against the real daemon over loopback,
/// each bad request followed by a good one to the same process.
/// </summary>
public sealed class HttpHardeningTests(HttpHardeningFixture fixture) : IClassFixture<HttpHardeningFixture>
{
    private Daemon Daemon => fixture.Daemon;

    private int Port => Daemon.CherrypyPort;

    private static readonly string LoginJson = """{"username": "saltdev", "password": "saltdev", "eauth": "file"}""";

    /// <summary>A request that must work: the process is alive and serving.</summary>
    private async Task AssertGoodAsync()
    {
        var login = await RawHttp.SendAsync(Port, Post("/login", LoginJson, "application/json", ("Accept", "application/json")));
        Assert.True(login.Status == 200, login.ToString());
        var wsgi = await RawHttp.SendAsync(Daemon.WsgiPort, Post("/", Valid));
        Assert.True(wsgi.Status == 200, wsgi.ToString());
        Assert.False(Daemon.HasExited);
    }

    private async Task<RawResponse> HookAsync(string target, string session, params (string, string)[] headers) =>
        await RawHttp.SendAsync(Port, Post(target, """{"hello": "hook"}""", "application/json", [("X-Auth-Token", session), ("Accept", "application/json"), .. headers]));

    // ------------------------------------------------------------ finding 4

    [Fact]
    public async Task Hook_event_carries_every_header_but_the_api_credentials_and_the_socket_address()
    {
        var session = await fixture.SessionAsync();
        await using var events = await EventStreamReader.OpenAsync(Port, session);
        var marker = "h4-" + Guid.NewGuid().ToString("N")[..8];
        var hook = await HookAsync(
            "/hook/" + marker,
            session,
            ("Cookie", $"session_id={session}; other=1"),
            ("Authorization", "Basic c2FsdGRldjpzYWx0ZGV2"),
            ("X-Gitlab-Token", "gitlab-shared-secret"),
            ("X-My-Secret-Key", "reactor-secret"),
            ("Remote-Addr", "6.6.6.6"),
            ("X-Hub-Signature-256", "sha256=abc"),
            ("X-Custom", "kept"));
        Assert.True(hook.Status == 200, hook.ToString());
        Assert.True(await events.WaitForAsync("salt/netapi/hook/" + marker + "\n", TimeSpan.FromSeconds(15)), events.Text);
        var line = events.Text.Split('\n').First(l => l.StartsWith("data: ", StringComparison.Ordinal) && l.Contains(marker, StringComparison.Ordinal));

        // This API's own credentials never reach the bus: X-Auth-Token and the session_id cookie.
        Assert.DoesNotContain(session, line, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Auth-Token", line, StringComparison.Ordinal);
        Assert.DoesNotContain("6.6.6.6", line, StringComparison.Ordinal);
        Assert.Contains("\"Remote-Addr\": \"127.0.0.1\"", line, StringComparison.Ordinal);

        // Everything else does, as Salt keeps it: the secrets reactors check among them.
        Assert.Contains("\"Cookie\": \"other=1\"", line, StringComparison.Ordinal);
        Assert.Contains("\"X-Gitlab-Token\": \"gitlab-shared-secret\"", line, StringComparison.Ordinal);
        Assert.Contains("\"X-My-Secret-Key\": \"reactor-secret\"", line, StringComparison.Ordinal);
        Assert.Contains("\"Authorization\": \"Basic c2FsdGRldjpzYWx0ZGV2\"", line, StringComparison.Ordinal);
        Assert.Contains("\"X-Custom\": \"kept\"", line, StringComparison.Ordinal);
        Assert.Contains("\"X-Hub-Signature-256\": \"sha256=abc\"", line, StringComparison.Ordinal);
        Assert.Contains("\"hello\": \"hook\"", line, StringComparison.Ordinal);
        await AssertGoodAsync();
    }

    // ------------------------------------------------------------ finding 5

    [Theory]
    [InlineData("%0d%0a")]
    [InlineData("%250d%250a")]
    [InlineData("%0a")]
    [InlineData("%250a")]
    [InlineData("%0d")]
    public async Task Hook_path_with_CR_LF_is_refused_and_forges_no_event(string newline)
    {
        var session = await fixture.SessionAsync();
        await using var events = await EventStreamReader.OpenAsync(Port, session);
        var forged = "forged-" + Guid.NewGuid().ToString("N")[..8];
        // After the tag line: a forged event for every subscriber, if the tag were written raw.
        var path = $"/hook/x{newline}data:%20%7B%22tag%22:%20%22{forged}%22%7D{newline}{newline}tag:%20{forged}{newline}";
        var hook = await HookAsync(path, session);
        Assert.True(hook.Status == 400, hook.ToString());
        Assert.Contains("control characters", hook.Text, StringComparison.Ordinal);

        var marker = "h5-" + Guid.NewGuid().ToString("N")[..8];
        var good = await HookAsync("/hook/" + marker, session);
        Assert.True(good.Status == 200, good.ToString());
        Assert.True(await events.WaitForAsync(marker, TimeSpan.FromSeconds(15)), events.Text);
        Assert.DoesNotContain(forged, events.Text, StringComparison.Ordinal);
        await AssertGoodAsync();
    }

    // ------------------------------------------------------------ finding 6

    [Fact]
    public async Task Slow_bodies_beyond_the_gate_do_not_make_a_good_request_503()
    {
        // Three times the gate (running + queued): each sends its headers and 10 bytes of a 100 kB body, then waits.
        var slow = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 3 * (HttpHardeningFixture.CherrypyThreads + HttpHardeningFixture.CherrypyQueue); i++)
            {
                var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", Port);
                await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
                    "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{\"usernam"));
                slow.Add(tcp);
            }

            await Task.Delay(1000);
            var started = DateTime.UtcNow;
            var login = await RawHttp.SendAsync(Port, Post("/login", LoginJson, "application/json", ("Accept", "application/json")), TimeSpan.FromSeconds(8));
            Assert.True(login.Status == 200, login.ToString());
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), $"took {DateTime.UtcNow - started}");
        }
        finally
        {
            foreach (var tcp in slow)
            {
                tcp.Dispose();
            }
        }

        await AssertGoodAsync();
    }

    [Fact]
    public async Task A_body_that_stops_arriving_is_dropped_by_the_minimum_data_rate()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{"));
        var buffer = new byte[4096];
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var n = -1;
        try
        {
            // Kestrel answers 408 or closes the connection; either way the connection ends, it is not held.
            n = await stream.ReadAsync(buffer, limit.Token);
        }
        catch (IOException)
        {
            n = 0;
        }

        Assert.False(limit.IsCancellationRequested, "the server held a connection whose body stopped arriving");
        if (n > 0)
        {
            Assert.StartsWith("HTTP/1.1 408", Encoding.ASCII.GetString(buffer, 0, n), StringComparison.Ordinal);
        }

        await AssertGoodAsync();
    }

    // ------------------------------------------------------------ finding 8

    [Theory]
    [InlineData("null")]
    [InlineData("https://evil.example")]
    public async Task Cors_star_answers_star_without_credentials_and_never_reflects_the_origin(string origin)
    {
        foreach (var request in new[]
        {
            RawHttp.Build("GET", "/", [("Origin", origin), ("Accept", "application/json")]),
            Post("/login", LoginJson, "application/json", ("Origin", origin), ("Accept", "application/json")),
            RawHttp.Build("OPTIONS", "/login", [("Origin", origin), ("Access-Control-Request-Method", "POST")]),
        })
        {
            var response = await RawHttp.SendAsync(Port, request);
            Assert.True(response.Status == 200, response.ToString());
            Assert.Equal("*", response.Header("Access-Control-Allow-Origin"));
            Assert.Null(response.Header("Access-Control-Allow-Credentials"));
            Assert.DoesNotContain(response.Headers, h => h.Value.Contains(origin, StringComparison.Ordinal));
        }

        await AssertGoodAsync();
    }

    // ------------------------------------------------------------ finding 9

    [Fact]
    public async Task Wsgi_body_above_its_default_bound_is_413()
    {
        var body = new byte[(1 << 20) + 1];
        Array.Fill(body, (byte)' ');
        body[0] = (byte)'[';
        body[^1] = (byte)']';
        var response = await RawHttp.SendAsync(Daemon.WsgiPort, Post("/", body));
        Assert.True(response.Status == 413, response.ToString());
        await AssertGoodAsync();
    }

    [Fact]
    public async Task Wsgi_too_many_chunks_is_400_before_anything_is_built()
    {
        var body = "[" + string.Join(",", Enumerable.Repeat("{}", 1001)) + "]";
        var response = await RawHttp.SendAsync(Daemon.WsgiPort, Post("/", body));
        Assert.True(response.Status == 400, response.ToString());
        Assert.Contains("Too many lowstate chunks", response.Text, StringComparison.Ordinal);

        // A UTF-8 BOM in front is skipped by the parser, so the count must skip it too (it read 0 and let
        // every chunk run).
        var bom = await RawHttp.SendAsync(Daemon.WsgiPort, Post("/", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(body)]));
        Assert.True(bom.Status == 400, bom.ToString());
        Assert.Contains("Too many lowstate chunks", bom.Text, StringComparison.Ordinal);

        // Several chunks under the bound still run.
        var three = "[" + string.Join(",", Enumerable.Repeat(Valid[1..^1], 3)) + "]";
        var ok = await RawHttp.SendAsync(Daemon.WsgiPort, Post("/", three));
        Assert.True(ok.Status == 200, ok.ToString());
        await AssertGoodAsync();
    }

    [Fact]
    public async Task Wsgi_gate_answers_503_when_full()
    {
        // thread_pool 1, queue_size 0: a runner that sleeps 5 s holds the only slot once its job has started
        // (its salt/run/<jid>/new event), which is when the next request must be refused.
        var session = await fixture.SessionAsync();
        await using var events = await EventStreamReader.OpenAsync(Port, session);
        var sleeper = RawHttp.SendAsync(Daemon.WsgiPort, Post("/", $$"""[{"client": "runner", "fun": "test.sleep", "s_time": 5, {{Creds}}}]"""), TimeSpan.FromSeconds(30));
        Assert.True(await events.WaitForAsync("runner.test.sleep", TimeSpan.FromSeconds(15)), events.Text);
        Assert.False(sleeper.IsCompleted, "the runner ended before the second request was sent");
        var refused = await RawHttp.SendAsync(Daemon.WsgiPort, Post("/", Valid));
        Assert.True(refused.Status == 503, refused.ToString());
        var slept = await sleeper;
        Assert.True(slept.Status == 200, slept.ToString());
        await AssertGoodAsync();
    }

    // ------------------------------------------------------------ finding 13

    [Theory]
    [InlineData("/run", "[1, 2]")]
    [InlineData("/run", "[[\"a\"]]")]
    [InlineData("/run", "[null]")]
    [InlineData("/", "[1, 2]")]
    [InlineData("/", "[[\"a\"]]")]
    [InlineData("/minions", "[\"x\"]")]
    [InlineData("/token", "7")]
    public async Task Chunks_that_are_not_maps_are_400(string path, string body)
    {
        var session = await fixture.SessionAsync();
        var response = await RawHttp.SendAsync(Port, Post(path, body, "application/json", ("X-Auth-Token", session), ("Accept", "application/json")));
        Assert.True(response.Status == 400, response.ToString());
        Assert.True(response.Text.Contains("lowstate chunk must be a map", StringComparison.Ordinal) || response.Text.Contains("Lowstates must be a list", StringComparison.Ordinal), response.ToString());
        await AssertGoodAsync();
    }

    [Fact]
    public async Task A_bad_chunk_after_a_good_one_runs_nothing()
    {
        var marker = "h13-" + Guid.NewGuid().ToString("N")[..8];
        var session = await fixture.SessionAsync();
        await using var events = await EventStreamReader.OpenAsync(Port, session);
        var body = $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.echo", "arg": ["{{marker}}"], {{Creds}}}, 1]""";
        var response = await RawHttp.SendAsync(Port, Post("/run", body, "application/json", ("Accept", "application/json")));
        Assert.True(response.Status == 400, response.ToString());

        // The control: a good chunk alone runs, and its job is on the bus. Had the refused request run
        // its first chunk, that job's events would have come before these.
        var control = "h13c-" + Guid.NewGuid().ToString("N")[..8];
        var good = $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.echo", "arg": ["{{control}}"], {{Creds}}}]""";
        var ran = await RawHttp.SendAsync(Port, Post("/run", good, "application/json", ("Accept", "application/json")));
        Assert.True(ran.Status == 200, ran.ToString());
        Assert.True(await events.WaitForAsync(control, TimeSpan.FromSeconds(15)), events.Text);
        Assert.DoesNotContain(marker, events.Text, StringComparison.Ordinal);
        await AssertGoodAsync();
    }

    // ------------------------------------------------------------ finding 15

    [Theory]
    [InlineData("h15-a%0D%0Ab")]
    [InlineData("h15-a%0Ab")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("..%2Fh15-escape")]
    [InlineData("h15%5Cback")]
    [InlineData("h15%00nul")]
    public async Task Keys_refuse_an_invalid_mid_before_the_key_is_accepted(string mid)
    {
        var response = await RawHttp.SendAsync(Port, Post("/keys", $"mid={mid}&username=saltdev&password=saltdev&eauth=file", "application/x-www-form-urlencoded"));
        Assert.True(response.Status == 400, response.ToString());
        Assert.Contains("Invalid minion id", response.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(await AcceptedKeysAsync(), k => k.StartsWith("h15", StringComparison.Ordinal) || k.Contains("..", StringComparison.Ordinal) || k.Contains('\n', StringComparison.Ordinal));
        await AssertGoodAsync();
    }

    [Fact]
    public async Task Keys_with_a_non_ascii_mid_get_an_ascii_content_disposition()
    {
        var response = await RawHttp.SendAsync(Port, Post("/keys", "mid=h15-%C3%BCn%C3%AF%22q&username=saltdev&password=saltdev&eauth=file", "application/x-www-form-urlencoded"));
        Assert.True(response.Status == 200, response.ToString());
        Assert.Equal("attachment; filename=\"saltkeys-h15-_n__q.tar\"; filename*=UTF-8''saltkeys-h15-%C3%BCn%C3%AF%22q.tar", response.Header("Content-Disposition"));
        Assert.Contains("h15-ünï\"q", await AcceptedKeysAsync());
        await AssertGoodAsync();
    }

    private async Task<List<string>> AcceptedKeysAsync()
    {
        var session = await fixture.SessionAsync();
        var list = await RawHttp.SendAsync(Port, RawHttp.Build("GET", "/keys", [("X-Auth-Token", session), ("Accept", "application/json")]));
        Assert.True(list.Status == 200, list.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(list.Text);
        return doc.RootElement.GetProperty("return").GetProperty("minions").EnumerateArray().Select(e => e.GetString()!).ToList();
    }
}
